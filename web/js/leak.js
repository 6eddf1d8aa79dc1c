// "What the helper sees": the SCSDF sign leak for the digit on the pad (mpcdiff leak attack for
// one image; README "Protocol leakage"). A module of its own with its own worker (the page's
// worker script, method `helperView`), so the rest of the page is untouched: it reads the
// 28×28 preview the page already draws (intensities to 1/255) and asks the kernel, through the
// wasm adapter (wasm/src/leak.rs), what the helper party learns of the first layer and what it
// rebuilds from that with the first layer's weights known.

import { WorkerClient } from "./client.js";
import { drawPixels } from "./plots.js";

const $ = (id) => document.getElementById(id);
let client = null;

function pixelsFromPreview() {
  const c = $("preview");
  const data = c.getContext("2d").getImageData(0, 0, 28, 28).data;
  const px = new Float32Array(784);
  for (let i = 0; i < 784; i++) px[i] = data[4 * i] / 255;
  return px;
}

function canvas(w, h, label) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  c.className = "leak-map";
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", label);
  return c;
}

function mapCanvas(levels, ch, v) {
  const c = canvas(v.width, v.height, `helper's map of channel ${ch + 1}`);
  const n = v.width * v.height;
  const img = c.getContext("2d").createImageData(v.width, v.height);
  for (let i = 0; i < n; i++) {
    const g = Math.round((255 * levels[ch * n + i]) / v.m);
    img.data.set([g, g, g, 255], 4 * i);
  }
  c.getContext("2d").putImageData(img, 0, 0);
  return c;
}

function row(v) {
  const tr = document.createElement("tr");
  const name = document.createElement("th");
  name.textContent = v.comparison;
  tr.append(name);
  const maps = document.createElement("td");
  if (v.viewWords === 0) maps.textContent = "nothing: the helper takes no part";
  else for (let ch = 0; ch < v.channels; ch++) maps.append(mapCanvas(v.levels, ch, v));
  const sign = document.createElement("td");
  const s = canvas(28, 28, "sign picture");
  drawPixels(s, v.signImage);
  sign.append(s);
  const rec = document.createElement("td");
  const r = canvas(28, 28, "reconstruction with the first layer known");
  drawPixels(r, v.reconstruction);
  rec.append(r);
  const cost = document.createElement("td");
  cost.textContent = `${v.viewWords} words to the helper; ${v.rounds} rounds, ${v.bytesPerParty} B per party, ${v.helperBytes} B from the helper`;
  tr.append(maps, sign, rec, cost);
  return tr;
}

async function show() {
  const note = $("leak-note");
  const body = $("leak-rows");
  client ??= new WorkerClient(new URL("./worker.js", import.meta.url));
  const model = $("model")?.value === "lenet-relu" ? "lenet-relu" : "lenet";
  const breakpoints = new Float64Array(
    $("leak-breakpoints").value.split(",").map((t) => Number(t.trim())),
  );
  const pixels = pixelsFromPreview();
  note.textContent = "Running the first layer with each comparison…";
  try {
    const rows = [];
    for (const comparison of ["leaky", "hidden", "pc", "a2b"]) {
      rows.push(
        await client.call("helperView", {
          model, pixels, comparison, breakpoints, seed: $("mpc-seed")?.value || "42", steps: 200,
        }),
      );
    }
    body.replaceChildren(...rows.map(row));
    note.textContent = `${model}: the helper's per-channel maps (${model === "lenet" ? `interval index among ${rows[0].m} breakpoints` : "signs"}), its sign picture and its reconstruction (200 Adam steps, prior: the constant MNIST mean intensity).`;
  } catch (e) {
    note.textContent = `Failed: ${e.message}`;
  }
}

$("leak-show")?.addEventListener("click", show);
