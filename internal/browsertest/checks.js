// The page checks of check.go, run inside the page under test at one
// window size. The expression is a function of one argument, the width
// the page was laid out at, and resolves to {problems: [...], broken: "..."}:
// problems are sentences for the person fixing the page, broken says the
// checks themselves could not run (for example focus did not become
// :focus-visible), which must never pass as a clean page.
//
// Everything here reads computed styles; nothing is changed on the page
// except which element has focus, which is put back at the end.
(async (width) => {
  const problems = [];
  let broken = "";

  // Let the new window size reach layout and paint first.
  await new Promise((done) => {
    let frames = 0;
    const tick = () => (++frames >= 2 ? done() : requestAnimationFrame(tick));
    requestAnimationFrame(tick);
    setTimeout(done, 200); // in case frames are not produced
  });
  if (document.fonts) await document.fonts.ready;

  // ---- colours -------------------------------------------------------
  // Computed colours come back as rgb()/rgba() for the colours the
  // stylesheets use, but may be oklch(), color(srgb ...) and the like;
  // a 2D canvas turns any of them into RGBA.
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const pen = canvas.getContext("2d", { willReadFrequently: true });
  const parsed = new Map();
  const rgba = (css) => {
    if (parsed.has(css)) return parsed.get(css);
    let c;
    const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/.exec(css);
    if (m) {
      let a = m[4] === undefined ? 1 : Number(m[4]);
      if (m[5] === "%") a /= 100;
      c = [Number(m[1]), Number(m[2]), Number(m[3]), a];
    } else {
      pen.clearRect(0, 0, 1, 1);
      pen.fillStyle = "#000";
      pen.fillStyle = css;
      pen.fillRect(0, 0, 1, 1);
      const d = pen.getImageData(0, 0, 1, 1).data;
      c = [d[0], d[1], d[2], d[3] / 255];
    }
    parsed.set(css, c);
    return c;
  };
  // over paints colour c (with alpha) on the opaque colour b.
  const over = (c, b) => [0, 1, 2].map((i) => c[i] * c[3] + b[i] * (1 - c[3])).concat(1);
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const hex = (c) =>
    "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("") +
    (c[3] < 1 ? ` at ${Math.round(c[3] * 100)}% alpha` : "");
  const floor2 = (r) => (Math.floor(r * 100) / 100).toFixed(2);

  // backgrounds returns the opaque colours that can be behind el's text:
  // its own and its ancestors' background colours composited from the
  // first opaque one (white at the root), and every stop of a gradient as
  // a colour of its own, so that text on a gradient is judged on its
  // worst stop. It returns null when an ancestor paints an image
  // (url(...)), whose colours are unknown here.
  const backgrounds = (el) => {
    const layers = []; // top first; each a list of candidate colours
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      const image = cs.backgroundImage;
      let opaque = false;
      if (image && image !== "none") {
        if (/url\(/.test(image)) return null;
        const stops = (image.match(/(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\([^()]*\)|#[0-9a-f]{3,8}\b|\btransparent\b/gi) || []).map(rgba);
        if (stops.length) {
          layers.push(stops);
          opaque = stops.every((s) => s[3] >= 1);
        }
      }
      if (!opaque) {
        const c = rgba(cs.backgroundColor);
        if (c[3] > 0) {
          layers.push([c]); // below the element's own gradient, if any
          opaque = c[3] >= 1;
        }
      }
      if (opaque) break;
    }
    let below = [[255, 255, 255, 1]];
    for (let i = layers.length - 1; i >= 0; i--) {
      const next = new Map();
      for (const c of layers[i]) for (const b of below) {
        const m = over(c, b);
        next.set(m.map(Math.round).join(), m);
      }
      below = [...next.values()];
    }
    return below;
  };

  // ---- naming elements -----------------------------------------------
  const one = (e) => {
    let s = e.localName;
    if (e.id) s += "#" + e.id;
    for (const c of [...e.classList].slice(0, 3)) s += "." + c;
    const name = e.getAttribute("name");
    if (name && /^(input|select|textarea|button)$/.test(e.localName)) s += `[name=${name}]`;
    return s;
  };
  // describe names el with up to two ancestors, enough to find it in the
  // template: "form.filters > label > input#q".
  const describe = (el) => {
    const parts = [one(el)];
    for (let e = el.parentElement, n = 0; e && n < 2 && e !== document.body && e !== document.documentElement; e = e.parentElement, n++) {
      parts.unshift(one(e));
      if (e.id) break;
    }
    return parts.join(" > ");
  };
  const quote = (s) => {
    s = s.replace(/\s+/g, " ").trim();
    return JSON.stringify(s.length > 60 ? s.slice(0, 57) + "..." : s);
  };

  // ---- visibility ----------------------------------------------------
  const shown = (el) =>
    el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true });
  // clippedAway says el sits in a visually-hidden box (the
  // "sr-only" pattern: clipped, or overflow hidden in at most 1x1 px):
  // its text is for screen readers and has no contrast to check.
  const clippedAway = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.clip && cs.clip !== "auto" && /absolute|fixed/.test(cs.position)) return true;
      if (cs.clipPath && /inset\(50%|circle\(0/.test(cs.clipPath)) return true;
      if (cs.overflow !== "visible") {
        const r = e.getBoundingClientRect();
        if (r.width <= 1 || r.height <= 1) return true;
      }
    }
    return false;
  };

  // ---- 1. nothing scrolls sideways -----------------------------------
  const root = document.documentElement;
  if (root.clientWidth > width) {
    problems.push(`the page is laid out ${root.clientWidth}px wide in a ${width}px window: add <meta name="viewport" content="width=device-width, initial-scale=1">`);
  } else if (root.scrollWidth > root.clientWidth) {
    const edge = root.clientWidth + 0.5;
    // Contained means a box between e and the page clips or scrolls its
    // own overflow (a table in an overflow-x:auto wrapper) and ends inside
    // the window: e cannot widen the page.
    const contained = (e) => {
      for (let p = e.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return p.getBoundingClientRect().right <= edge;
      }
      return false;
    };
    const wide = [];
    for (const e of [document.body, ...document.body.querySelectorAll("*")]) {
      const r = e.getBoundingClientRect();
      if (r.right <= edge || (r.width === 0 && r.height === 0)) continue;
      if (getComputedStyle(e).position === "fixed") continue;
      const parent = e.parentElement;
      // only the outermost offender: its overflowing children follow it
      if (parent && parent !== root && parent.getBoundingClientRect().right > edge) continue;
      if (contained(e)) continue;
      wide.push({ e, right: r.right, w: r.width });
    }
    wide.sort((a, b) => b.right - a.right);
    const names = wide.slice(0, 5).map((o) => `${describe(o.e)} (right edge ${Math.round(o.right)}px, ${Math.round(o.w)}px wide)`);
    problems.push(
      `scrolls sideways: content is ${root.scrollWidth}px wide in a ${root.clientWidth}px window; ` +
        (names.length ? `widest: ${names.join("; ")}` : "no single element found; look for negative margins or transforms") +
        (wide.length > 5 ? `; and ${wide.length - 5} more` : "")
    );
  }

  // ---- 2. every input has a label ------------------------------------
  const unlabelledTypes = new Set(["hidden", "submit", "button", "reset", "image"]);
  const text = (e) => (e ? (e.innerText || e.textContent || "").trim() : "");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.localName === "input" && unlabelledTypes.has(el.type)) continue;
    if (!el.checkVisibility({ checkVisibilityCSS: true, visibilityProperty: true })) continue;
    if ([...(el.labels || [])].some((l) => text(l) !== "")) continue;
    if ((el.getAttribute("aria-label") || "").trim() !== "") continue;
    const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    if (by.some((id) => text(document.getElementById(id)) !== "")) continue;
    problems.push(`input without a label: ${describe(el)}${el.localName === "input" ? ` (type ${el.type})` : ""}: give it a <label for="id">, a wrapping <label>, aria-label or aria-labelledby`);
  }

  // ---- 3. text contrast ----------------------------------------------
  const large = (cs) => {
    const size = parseFloat(cs.fontSize);
    return size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const judged = new Set();
  const judge = (el, sample, color, pseudo) => {
    const cs = getComputedStyle(el);
    if (parseFloat(cs.fontSize) === 0) return;
    const fg = rgba(color);
    const alpha = fg[3] * opacity(el);
    if (alpha === 0) return;
    const bgs = backgrounds(el);
    if (!bgs) return; // text on an image: not judged here (see docs/pages.md)
    const need = large(cs) ? 3 : 4.5;
    let worst = null;
    for (const b of bgs) {
      const shown = over([fg[0], fg[1], fg[2], alpha], b);
      const r = ratio(shown, b);
      if (!worst || r < worst.r) worst = { r, b };
    }
    if (worst.r < need) {
      problems.push(
        `low contrast ${floor2(worst.r)}:1 (needs ${need}:1): ${describe(el)}${pseudo} ${quote(sample)}: ` +
          `text ${hex([fg[0], fg[1], fg[2], alpha])} on ${hex(worst.b)}, ${cs.fontSize} weight ${cs.fontWeight}`
      );
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || judged.has(el) || n.data.trim() === "") continue;
    if (/^(script|style|noscript|template|option|optgroup|textarea)$/.test(el.localName)) continue;
    if (!shown(el) || clippedAway(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    if (![...range.getClientRects()].some((r) => r.width > 0 && r.height > 0)) continue;
    judged.add(el);
    judge(el, n.data, getComputedStyle(el).color, "");
  }
  // Text that is not a text node: a field's value or placeholder, the
  // chosen option of a select, the value of <input type=submit>.
  const noText = new Set(["hidden", "checkbox", "radio", "range", "color", "file", "image"]);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.localName === "input" && noText.has(el.type)) continue;
    if (!shown(el) || clippedAway(el)) continue;
    if (el.localName === "select") {
      const o = el.selectedOptions && el.selectedOptions[0];
      if (o && o.text.trim()) judge(el, o.text, getComputedStyle(el).color, "");
      continue;
    }
    if (el.value && el.value.trim()) judge(el, el.value, getComputedStyle(el).color, "");
    else if (el.placeholder && el.placeholder.trim()) judge(el, el.placeholder, getComputedStyle(el, "::placeholder").color, "::placeholder");
  }

  // ---- 4. visible focus ----------------------------------------------
  // Each control is focused as the keyboard would (focusVisible), its
  // transitions are finished, and its outline and box-shadow compared
  // with the unfocused state. An iframe is left out: focus moves into its
  // document, which is checked on its own.
  const ring = (el) => {
    const cs = getComputedStyle(el);
    return {
      style: cs.outlineStyle,
      width: parseFloat(cs.outlineWidth) || 0,
      color: cs.outlineColor,
      offset: parseFloat(cs.outlineOffset) || 0,
      shadow: cs.boxShadow,
    };
  };
  const settle = (el) => {
    for (const a of el.getAnimations ? el.getAnimations() : []) {
      try {
        a.finish();
      } catch (e) {
        // an infinite animation cannot finish; its current frame counts
      }
    }
  };
  const label = (el) => {
    const t = (el.getAttribute("aria-label") || text(el) || el.value || el.getAttribute("title") || "").trim();
    return t ? " " + quote(t) : "";
  };
  const wasActive = document.activeElement;
  const [scrollX, scrollY] = [window.scrollX, window.scrollY];
  const focusable = document.querySelectorAll(
    'a[href], area[href], button, input, select, textarea, summary, [tabindex], [contenteditable=""], [contenteditable=true]'
  );
  for (const el of focusable) {
    if (el.localName === "input" && el.type === "hidden") continue;
    if (el.disabled || el.closest("[inert]") || el.tabIndex < 0) continue;
    if (!el.checkVisibility({ checkVisibilityCSS: true, visibilityProperty: true })) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    settle(el);
    const before = ring(el);
    el.focus({ focusVisible: true, preventScroll: true });
    if (document.activeElement !== el) continue; // e.g. a <summary> that is not its <details>' first
    if (!el.matches(":focus-visible")) {
      broken = `focusing ${describe(el)} did not make it :focus-visible, so focus rings cannot be checked (is the page focused? Check enables focus emulation)`;
      break;
    }
    settle(el);
    const after = ring(el);
    el.blur();
    const outlineShown =
      after.style !== "none" && after.style !== "hidden" && after.width > 0 && rgba(after.color)[3] > 0 &&
      (after.style !== before.style || after.width !== before.width || after.color !== before.color || after.offset !== before.offset);
    const shadowShown = after.shadow !== before.shadow && after.shadow !== "none";
    if (!outlineShown && !shadowShown) {
      const has = (r) =>
        (r.style === "none" || r.width === 0 ? "no outline" : `outline ${r.style} ${r.width}px ${hex(rgba(r.color))}`) +
        (r.shadow === "none" ? " and no box-shadow" : ` and box-shadow ${r.shadow}`);
      const same = has(after) === has(before) ? ", as unfocused" : "";
      problems.push(`no visible focus: ${describe(el)}${label(el)}: focused it has ${has(after)}${same}; add a :focus-visible outline`);
      continue;
    }
    // A focus outline the colour of what is behind it is not visible
    // either. outline-style auto is the browser's own two-tone ring.
    if (outlineShown && !shadowShown && after.style !== "auto") {
      const behind = after.offset < 0 ? el : el.parentElement || el;
      const bgs = backgrounds(behind);
      const oc = rgba(after.color);
      if (bgs) {
        let worst = null;
        for (const b of bgs) {
          const r = ratio(over(oc, b), b);
          if (!worst || r < worst.r) worst = { r, b };
        }
        if (worst.r < 3) {
          problems.push(`focus outline hard to see: ${describe(el)}${label(el)}: outline ${hex(oc)} on ${hex(worst.b)} has contrast ${floor2(worst.r)}:1 (needs 3:1)`);
        }
      }
    }
  }
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  if (wasActive && wasActive !== document.body && wasActive.focus) wasActive.focus({ preventScroll: true });
  window.scrollTo(scrollX, scrollY);
  return { problems, broken };
})
