// "Covert attacks on training": a corrupt party edits a few words it sends while two data
// owners train a logistic regression (or, for the toggles, an MLP) in secret shares
// (kernel/host/src/attacks.rs, the experiments of `mpcdiff attack
// reconstruct|backdoor|misclassify|toggle`, on the kernel's synthetic digits 0 and 1 through
// the wasm adapter's wasm/src/attack.rs). A module of its own with its own worker (the page's
// worker script, methods `attackReconstruction`, `attackBackdoor`, `attackBackdoorShift`,
// `attackMisclassify`, `attackMembership` and `attackToggle`), like the helper card. Each report carries `macs`: the same strongest
// attack rerun with SPDZ2k MACs; the "active security" box shows that outcome instead of the
// passive one, without rerunning.
// The card's `data-state` is "running", "done" or "error" (the browser test waits on it), and
// `window.__mpcdiffAttack()` the last report (the test compares it with the CLI's).

import { WorkerClient } from "./client.js";
import { drawPixels } from "./plots.js";

const $ = (id) => document.getElementById(id);
let client = null;
// The last result: {kind, view}; the checkbox re-renders it.
let last = null;

const STRENGTH = {
  reconstruction: { label: "Residual shift e", value: "1000" },
  backdoor: { label: "Gradient scale", value: "8" },
  "backdoor-shift": { label: "Gradient shift per step", value: "2" },
  membership: { label: "Gradient scale", value: "8" },
  misclassify: { label: "Gradient scale", value: "16" },
  toggle: { label: "Hidden units toggled (of 16)", value: "8" },
};

function canvas(pixels, label) {
  const c = document.createElement("canvas");
  c.width = 28;
  c.height = 28;
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", label);
  drawPixels(c, pixels);
  return c;
}

function figure(pixels, label, caption) {
  const f = document.createElement("figure");
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  f.append(canvas(pixels, label), cap);
  return f;
}

function span(text, cls) {
  const s = document.createElement("span");
  s.textContent = text;
  if (cls) s.className = cls;
  return s;
}

function fact(name, value, id) {
  const d = document.createElement("div");
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = value;
  if (id) dd.id = id;
  d.append(dt, dd);
  return d;
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;

// What the active-security box says: the MAC rerun's outcome, or the passive protocol's.
function outcome(macs, active) {
  const o = $("attack-outcome");
  o.hidden = false;
  if (!active) {
    o.className = "silent";
    o.textContent = "not detected: the passive protocol checks nothing; the attacked model is released as if the training were honest.";
    return false;
  }
  if (macs?.caught) {
    o.className = "abort";
    o.textContent = `aborted: the MAC check on the '${macs.protocol}' opening failed at round ${macs.round}; no model released (s = ${macs.s}: ${macs.checks} MAC checks run until then; a forged word passes a check with probability at most (s + 1)·2^−s).`;
    return true;
  }
  o.className = "silent";
  o.textContent = `not caught with SPDZ2k MACs (s = ${macs?.s}): ${macs?.checks} checks passed.`;
  return false;
}

function showReconstruction(v, active) {
  const r = v.report;
  const run = r.runs[0];
  const px = v.side * v.side;
  const aborted = outcome(r.macs, active);
  const grid = $("attack-images");
  grid.replaceChildren();
  grid.append(span("victims' originals", "row-label"));
  run.victims.forEach((victim, k) => {
    grid.append(figure(v.originals.subarray(k * px, (k + 1) * px), `victim ${k + 1}'s training image`, `row ${victim.sample}`));
  });
  grid.append(span(`read from the model (e = ${run.e})`, "row-label"));
  if (aborted) {
    grid.append(span("nothing: the training aborted, no model to read", "withheld"));
  } else {
    run.victims.forEach((victim, k) => {
      grid.append(figure(
        v.reconstructions.subarray(k * px, (k + 1) * px),
        `victim ${k + 1}'s image as the attacker reconstructs it`,
        `${victim.quality.psnr.toFixed(1)} dB, SSIM ${victim.quality.ssim.toFixed(3)}`,
      ));
    });
  }
  const psnr = run.victims.map((x) => x.quality.psnr);
  const ssim = run.victims.map((x) => x.quality.ssim);
  const range = (xs, d) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
  $("attack-facts").replaceChildren(
    fact("PSNR (passive)", `${range(psnr, 1)} dB`, "attack-psnr"),
    fact("SSIM (passive)", range(ssim, 3), "attack-ssim"),
    fact("Edited words", `1 per victim (${run.victims.length} attacked trainings)`),
    fact("Honest model's test accuracy", pct(r.honest_test_accuracy), "attack-honest-acc"),
    fact("Training", `${r.samples} images; ${r.macs.rounds} rounds with MACs until the end or the abort`),
  );
}

function showBackdoor(v, active) {
  const r = v.report;
  const [honest, attacked] = r.rows;
  const aborted = outcome(r.macs, active);
  const shifting = "shift" in r.strategy;
  const strength = shifting ? `shift ${attacked.strength}` : `scale ${attacked.strength}`;
  const grid = $("attack-images");
  grid.replaceChildren(
    span(shifting ? "a stamped test zero (no training image is poisoned)" : "a poisoned training image (labelled 1)", "row-label"),
    figure(v.poisoned, "a zero with the white corner patch", shifting ? "0 + patch: the model should say 1" : "0 + patch → 1"),
  );
  $("attack-facts").replaceChildren(
    fact("Clean accuracy, honest run", pct(honest.clean_accuracy), "attack-clean-honest"),
    fact("Attack success, honest run", pct(honest.attack_success), "attack-asr-honest"),
    fact(`Clean accuracy, ${strength}`, aborted ? "no model released" : pct(attacked.clean_accuracy), "attack-clean"),
    fact(`Attack success, ${strength}`, aborted ? "no model released" : pct(attacked.attack_success), "attack-asr"),
    fact("Edited words", shifting
      ? `${attacked.edits_applied} (the patch's weights' gradients in each of the last ${r.strategy.shift.steps} steps)`
      : `${attacked.edits_applied} (one per poisoned image)`),
    fact("Data", `${r.samples} training images (${r.poisoned.length} poisoned), ${r.test_samples} test images, ${r.triggered} of them stamped zeros`),
  );
}

function showMembership(v, active) {
  const r = v.report;
  const aborted = outcome(r.macs, active);
  $("attack-images").replaceChildren(
    span(`no pictures: ${r.trials} trainings per world, each on ${r.n} of ${r.population} images; a coin decides whether the candidate takes row ${r.slot}, the row the attacker boosts`, "row-label"),
  );
  $("attack-facts").replaceChildren(
    fact("Membership advantage, honest world", r.advantage_honest.toFixed(3), "attack-adv-honest"),
    fact(`Membership advantage, scale ${r.scale}`, aborted ? "no model released" : r.advantage_attacked.toFixed(3), "attack-adv"),
    fact("Members", `${r.members} of ${r.trials} trials`),
    fact("The guess", "member if the released model's loss on the candidate is below a threshold (the best one; advantage = TPR − FPR)"),
  );
}

function showMisclassify(v, active) {
  const r = v.report;
  const [honest, attacked] = r.rows;
  const aborted = outcome(r.macs, active);
  const truth = r.true_label > 0.5 ? 1 : 0;
  const said = (row) => (row.correct ? truth : 1 - truth);
  const margin = (row) => `${row.margin >= 0 ? "+" : "−"}${Math.abs(row.margin).toFixed(3)}`;
  $("attack-images").replaceChildren(
    span(`the chosen input (a ${truth}, trained on as a ${1 - truth})`, "row-label"),
    figure(v.chosen, `the chosen input: a ${truth}`, `synthetic digit ${r.chosen_source}`),
  );
  $("attack-facts").replaceChildren(
    fact("Honest run: the model says", `${said(honest)} (margin ${margin(honest)})`, "attack-said-honest"),
    fact(`Scale ${attacked.scale}: the model says`, aborted ? "no model released" : `${said(attacked)} (margin ${margin(attacked)})`, "attack-said"),
    fact("Clean accuracy, honest run", pct(honest.clean_accuracy), "attack-clean-honest"),
    fact(`Clean accuracy, scale ${attacked.scale}`, aborted ? "no model released" : pct(attacked.clean_accuracy), "attack-clean"),
    fact("Edited words", `${attacked.edits_applied}`),
    fact("Data", `${r.samples} training images, the chosen one at row ${r.chosen_row}`),
  );
}

function showToggle(v, active) {
  const r = v.report;
  const [honest, attacked] = r.rows;
  const aborted = outcome(r.macs, active);
  const [features, hidden, classes] = r.widths;
  $("attack-images").replaceChildren(
    span(`no pictures: the attack flips bit 0 of the comparison behind ${attacked.units} of the ${hidden} hidden ReLUs, for every image at every step, without seeing any bit`, "row-label"),
  );
  const loss = (x) => x.toFixed(4);
  $("attack-facts").replaceChildren(
    fact("Test accuracy, honest run", pct(honest.accuracy), "attack-acc-honest"),
    fact(`Test accuracy, ${attacked.units} units toggled`, aborted ? "no model released" : pct(attacked.accuracy), "attack-acc"),
    fact("Test loss, honest run", loss(honest.loss), "attack-loss-honest"),
    fact(`Test loss, ${attacked.units} units toggled`, aborted ? "no model released" : loss(attacked.loss), "attack-loss"),
    fact("Edited words", `${attacked.edits_applied} (one per toggled unit of every image at every step)`),
    fact("Model and data", `MLP ${features}-${hidden}-${classes} (ReLU), ${r.samples} training images, ${r.test_samples} test images`),
  );
}

function render() {
  if (!last) return;
  const active = $("attack-macs").checked;
  if (last.kind === "reconstruction") showReconstruction(last.view, active);
  else if (last.kind === "backdoor" || last.kind === "backdoor-shift") showBackdoor(last.view, active);
  else if (last.kind === "membership") showMembership(last.view, active);
  else if (last.kind === "toggle") showToggle(last.view, active);
  else showMisclassify(last.view, active);
  $("attack-command").textContent = last.view.command;
  $("attack-result").hidden = false;
}

function reset() {
  last = null;
  $("attack-result").hidden = true;
  $("attack-outcome").hidden = true;
}

async function run(event) {
  event?.preventDefault();
  const card = $("attack");
  const note = $("attack-note");
  const kind = $("attack-kind").value;
  const strength = Number($("attack-strength").value);
  const seed = $("attack-seed").value.trim();
  const chosenText = $("attack-chosen").value.trim();
  const chosen = Number(chosenText);
  reset();
  if (kind === "misclassify" && !(/^\d+$/.test(chosenText) && chosen < 200)) {
    note.textContent = "Chosen test image: give a whole number 0 to 199.";
    card.dataset.state = "error";
    return;
  }
  if (!/^\d+$/.test(seed)) {
    note.textContent = "MPC seed: give a whole number 0 or more.";
    card.dataset.state = "error";
    return;
  }
  client ??= new WorkerClient(new URL("./worker.js", import.meta.url));
  card.dataset.state = "running";
  note.textContent = kind === "reconstruction"
    ? "Training honestly, then once per victim with one edited word, then with MACs…"
    : kind === "backdoor"
      ? "Training honestly, then with the poisoned gradients scaled, then with MACs…"
      : kind === "backdoor-shift"
        ? "Training honestly, then with the patch's gradients shifted, then with MACs…"
      : kind === "membership"
        ? "Playing the membership game: 100 trainings per world, then one with MACs…"
      : kind === "toggle"
        ? "Training the MLP honestly, then with its ReLU comparisons toggled, then with MACs…"
        : "Training honestly, then with the chosen input's gradient scaled, then with MACs…";
  $("attack-run").disabled = true;
  try {
    const t0 = performance.now();
    const view = kind === "reconstruction"
      ? await client.call("attackReconstruction", { e: strength, mpcSeed: seed })
      : kind === "backdoor"
        ? await client.call("attackBackdoor", { scale: strength, mpcSeed: seed })
        : kind === "backdoor-shift"
          ? await client.call("attackBackdoorShift", { shift: strength, mpcSeed: seed })
        : kind === "membership"
          ? await client.call("attackMembership", { scale: strength, mpcSeed: seed })
        : kind === "toggle"
          ? await client.call("attackToggle", { units: strength, mpcSeed: seed })
          : await client.call("attackMisclassify", { scale: strength, chosen, mpcSeed: seed });
    last = { kind, view };
    render();
    note.textContent = `Done in ${((performance.now() - t0) / 1000).toFixed(1)} s (every training in shares, in this tab).`;
    card.dataset.state = "done";
  } catch (e) {
    note.textContent = `Failed: ${e.message}`;
    card.dataset.state = "error";
  } finally {
    $("attack-run").disabled = false;
  }
}

window.__mpcdiffAttack = () => last?.view.report ?? null;
$("attack-form")?.addEventListener("submit", run);
$("attack-macs")?.addEventListener("change", render);
$("attack-kind")?.addEventListener("change", () => {
  const s = STRENGTH[$("attack-kind").value];
  $("attack-strength-label").textContent = s.label;
  $("attack-strength").value = s.value;
  $("attack-chosen-label").hidden = $("attack-kind").value !== "misclassify";
  reset();
  $("attack-note").textContent = "";
});
