// The drawing pad: white ink on black (as MNIST stores digits), drawn with pointer events so
// that a mouse, a finger and a pen all work. The pad only records ink; rasterising it into
// 28 × 28 is the kernel's job (worker method `rasterize`).

const INK_WIDTH = 20; // canvas pixels on the 280-pixel pad: about MNIST's stroke width after fitting

export class Pad {
  // `onInk(final)` is called while drawing (throttled, final = false) and when a stroke ends.
  constructor(canvas, onInk) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.onInk = onInk;
    this.drawing = false;
    this.last = null;
    this.lastNotify = 0;
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    for (const type of ["pointerup", "pointercancel"]) canvas.addEventListener(type, (e) => this.#up(e));
  }

  clear() {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.empty = true;
  }

  // Shows 28 × 28 intensities on the pad, scaled up (a synthetic digit; drawing on top of it
  // continues from what is shown).
  show(pixels) {
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const sctx = small.getContext("2d");
    const img = sctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(255 * Math.max(0, Math.min(1, pixels[i])));
      img.data.set([v, v, v, 255], 4 * i);
    }
    sctx.putImageData(img, 0, 0);
    this.clear();
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.empty = false;
  }

  // The ink as intensities in [0, 1] (row-major), with the pad's size.
  read() {
    const { width, height } = this.canvas;
    const data = this.ctx.getImageData(0, 0, width, height).data;
    const drawing = new Float32Array(width * height);
    for (let i = 0; i < drawing.length; i++) drawing[i] = data[4 * i] / 255;
    return { drawing, width, height };
  }

  #point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) / r.width) * this.canvas.width,
      ((e.clientY - r.top) / r.height) * this.canvas.height,
    ];
  }

  #stroke(to) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = INK_WIDTH;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    if (this.last) {
      ctx.moveTo(...this.last);
      ctx.lineTo(...to);
      ctx.stroke();
    } else {
      ctx.arc(to[0], to[1], INK_WIDTH / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    this.last = to;
    this.empty = false;
  }

  #down(e) {
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.drawing = true;
    this.last = null;
    this.#stroke(this.#point(e));
  }

  #move(e) {
    if (!this.drawing) return;
    e.preventDefault();
    this.#stroke(this.#point(e));
    const now = performance.now();
    if (now - this.lastNotify > 150) {
      this.lastNotify = now;
      this.onInk(false);
    }
  }

  #up(e) {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = null;
    this.canvas.releasePointerCapture?.(e.pointerId);
    this.onInk(true);
  }
}
