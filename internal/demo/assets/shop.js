// The demo shop's product page: "Pay with the widget" opens Thaili's
// KhaltiCheckout, and onSuccess hands the token to the shop's server,
// which verifies it with its secret key (docs/khalti.md §5.3).
(function () {
  "use strict";
  var btn = document.getElementById("widget-pay");
  var out = document.getElementById("result");
  if (!btn || !out) { return; }
  if (typeof window.KhaltiCheckout !== "function") {
    btn.disabled = true;
    out.textContent = "khalti-checkout.js did not load.";
    return;
  }
  function show(title, value) {
    out.textContent = title + (value === undefined ? "" : "\n" + JSON.stringify(value, null, 2));
  }
  var d = btn.dataset;
  var checkout = new window.KhaltiCheckout({
    publicKey: d.publicKey,
    productIdentity: d.productIdentity,
    productName: d.productName,
    productUrl: d.productUrl,
    paymentPreference: ["KHALTI", "EBANKING", "MOBILE_BANKING", "CONNECT_IPS", "SCT"],
    merchant_shop: "thaili-demo",
    eventHandler: {
      onSuccess: function (payload) {
        show("onSuccess payload:", payload);
        fetch("/demo/verify", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: payload.token, amount: payload.amount })
        }).then(function (res) {
          return res.text().then(function (text) {
            out.textContent += "\n\nverify (HTTP " + res.status + "):\n" + text;
            out.setAttribute("data-verified", res.ok ? "true" : "false");
          });
        }, function (err) {
          out.textContent += "\n\nverify failed: " + err;
        });
      },
      onError: function (err) { show("onError:", err); },
      onClose: function () { show("The widget was closed."); }
    }
  });
  btn.addEventListener("click", function () {
    checkout.show({ amount: Number(d.amount) });
  });
})();
