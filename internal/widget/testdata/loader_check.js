// Drives khalti-checkout.js in node with a minimal fake DOM: validation at
// show(), paymentInfo after widgetLoad, and the handlers for the widget's
// messages (docs/khalti.md §7.1, §7.2). Run by TestLoaderProtocol.
"use strict";
const fs = require("fs");
const assert = require("assert");

function element(tag) {
  return { tag, style: {}, attrs: {}, children: [], setAttribute(k, v) { this.attrs[k] = v; }, appendChild(c) { this.children.push(c); } };
}
const listeners = {};
const body = element("body");
const sent = [];
function frameWindow() { return { postMessage(msg, origin) { sent.push({ msg: JSON.parse(JSON.stringify(msg)), origin }); } }; }
const document = {
  body,
  currentScript: { src: "https://thaili.example/kpg/khalti-checkout.js" },
  createElement(tag) {
    const e = element(tag);
    if (tag === "iframe") { e.contentWindow = frameWindow(); }
    return e;
  },
  addEventListener() {},
};
const window = { location: { href: "https://shop.example/" }, addEventListener(t, f) { listeners[t] = (listeners[t] || []).concat(f); } };
new Function("window", "document", "URL", fs.readFileSync(process.argv[2], "utf8"))(window, document, URL);

const KhaltiCheckout = window.KhaltiCheckout;
assert.strictEqual(typeof KhaltiCheckout, "function");
let frame;
function fire(data, source = frame.contentWindow, origin = "https://thaili.example") {
  listeners.message.forEach((f) => f({ data, source, origin }));
}

const calls = [];
const checkout = new KhaltiCheckout({
  publicKey: "test_public_key_x", productIdentity: "p1", productName: "P", productUrl: "https://shop.example/p1",
  merchant_extra: "e", merchantData: { a: 1 },
  eventHandler: {
    onSuccess: (p) => calls.push(["success", p]), onError: (e) => calls.push(["error", e]), onClose: () => calls.push(["close"]),
  },
});
frame = body.children.find((c) => c.tag === "iframe");
assert.strictEqual(frame.src, "https://thaili.example/kpg/payment_gateway_widget.html");
assert.strictEqual(frame.style.display, "none");

// Validation: amount is required at show().
assert.throws(() => checkout.show(), (e) => JSON.parse(e.message).amount === "This field is required.");
assert.throws(() => new KhaltiCheckout({ eventHandler: {} }).show({ amount: 1000 }),
  (e) => { const x = JSON.parse(e.message); return !!(x.publicKey && x.productIdentity && x.productName && x.productUrl && x.eventHandler.onSuccess); });

// widgetLoad before show() sends nothing; show() then sends paymentInfo.
fire({ realm: "widgetLoad", payload: { loaded: true } });
assert.strictEqual(sent.length, 0);
checkout.show({ amount: 1000, mobile: "9800000001" });
assert.strictEqual(frame.style.display, "block");
assert.strictEqual(sent.length, 1);
const info = sent[0].msg;
assert.strictEqual(info.realm, "paymentInfo");
assert.strictEqual(sent[0].origin, "https://thaili.example");
assert.ok(/^khalti-widget-\d+$/.test(info.payload.widgetId));
assert.strictEqual(info.payload.source, "checkout_v2.1");
assert.strictEqual(info.payload.eventHandler, undefined);
assert.strictEqual(info.payload.amount, 1000);
assert.strictEqual(info.payload.mobile, "9800000001");
assert.strictEqual(info.payload.merchant_extra, "e");
assert.deepStrictEqual(info.payload.merchantData, { a: 1 });

// Messages from another window or origin are ignored.
fire({ realm: "hide", payload: {} }, {});
fire({ realm: "hide", payload: {} }, frame.contentWindow, "https://evil.example");
assert.strictEqual(calls.length, 0);

// A verification for another widget is ignored; a matching one succeeds and hides.
fire({ realm: "walletPaymentVerification", payload: { idx: "i", token: "t", widget_id: "other" } });
assert.strictEqual(calls.length, 0);
fire({ realm: "walletPaymentVerification", payload: { idx: "i", token: "t", amount: 1000, widget_id: info.payload.widgetId } });
assert.deepStrictEqual(calls.shift(), ["success", { idx: "i", token: "t", amount: 1000, widget_id: info.payload.widgetId }]);
assert.strictEqual(frame.style.display, "none");

// widgetError reaches onError; hide reaches onClose.
checkout.show();
fire({ realm: "widgetError", payload: { detail: "x" } });
assert.deepStrictEqual(calls.shift(), ["error", { detail: "x" }]);
fire({ realm: "hide", payload: { widget_id: info.payload.widgetId } });
assert.deepStrictEqual(calls.shift(), ["close"]);
assert.strictEqual(frame.style.display, "none");
assert.strictEqual(calls.length, 0);
console.log("ok");
