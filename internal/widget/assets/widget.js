// Thaili checkout widget: the page inside the iframe that khalti-checkout.js
// (Thaili's or Khalti's own v2.1 loader) opens. It speaks the postMessage
// protocol of the Khalti web widget (docs/khalti.md §7.2) with its parent and makes
// the wallet calls of §10.4 to the host it is served from.
(function () {
  "use strict";

  var API = window.location.origin;
  var KINDS = ["KHALTI", "EBANKING", "MOBILE_BANKING", "CONNECT_IPS", "SCT"];
  var LABELS = {
    KHALTI: "Wallet", EBANKING: "E-Banking", MOBILE_BANKING: "Mobile banking",
    CONNECT_IPS: "connectIPS", SCT: "SCT card"
  };
  // The methods this server takes. The others a merchant's
  // paymentPreference names are not shown at all.
  var AVAILABLE = { KHALTI: true };
  // What the page says about the MPIN lock (internal/lockout's default,
  // as the hosted page says it).
  var LOCK_RULE = "3 wrong MPINs in a row lock your wallet for payments (for 30 minutes the first time).";
  // Config keys the initiate body names itself; every other key of the
  // paymentInfo payload is passed through as the v2.1 widget does.
  var OWN = { publicKey: 1, productIdentity: 1, productName: 1, productUrl: 1, amount: 1, paymentPreference: 1, eventHandler: 1 };

  var info = null;   // the current paymentInfo payload
  var token = null;  // the initiate token while the OTP step is open
  var pin = "";      // the MPIN typed at the first step, sent again at confirm
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function post(realm, payload) {
    if (window.parent !== window) {
      window.parent.postMessage({ realm: realm, payload: payload }, "*");
    }
  }

  function show(id) {
    ["wallet-form", "otp-form", "unavailable", "done", "waiting"].forEach(function (s) {
      $(s).hidden = s !== id;
    });
    var first = $(id).querySelector("input:not([readonly])");
    if (first) { first.focus(); }
  }

  function clearErrors() {
    Array.prototype.forEach.call(document.querySelectorAll(".field-errors"), function (ul) {
      ul.textContent = "";
    });
    Array.prototype.forEach.call(document.querySelectorAll(".message"), function (p) {
      p.textContent = "";
    });
    $("reset").hidden = true;
  }

  // fieldError lists msgs under the field, reporting whether there was one.
  function fieldError(field, msgs) {
    var ul = document.querySelector('.field-errors[data-for="' + field + '"]');
    if (!ul || msgs === undefined || msgs === null) { return false; }
    [].concat(msgs).forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = String(m);
      ul.appendChild(li);
    });
    return true;
  }

  function message(where, text) {
    document.querySelector('.message[data-for="' + where + '"]').textContent = text;
  }

  function tries(n) {
    return String(n) === "1" ? "1 try" : n + " tries";
  }

  // detailText words an API refusal for the payer by its error_key and
  // tries_remaining, as the hosted page does: the API's messages are
  // Khalti's ("Mobile or pin invalid.", "Khalti PINs"), the widget says
  // MPIN. step is "wallet" (initiate) or "otp" (confirm).
  function detailText(body, step) {
    if (body.error_key === "third_party_transaction_locked") {
      return "Your wallet is locked for payments after wrong MPINs. Wait for the lock to end, or reset your MPIN to unlock it now.";
    }
    if (body.tries_remaining !== undefined && body.tries_remaining !== null) {
      if (step === "wallet") {
        return "Wrong mobile number or MPIN. " + tries(body.tries_remaining) + " left. " + LOCK_RULE;
      }
      if (String(body.tries_remaining) === "0") {
        return "Wrong confirmation code. This payment has stopped: start again from the shop.";
      }
      return "Wrong confirmation code. " + tries(body.tries_remaining) + " left. After 3 wrong codes this payment stops.";
    }
    return String(body.detail);
  }

  // fieldText words a field's messages: the MPIN's in the widget's words.
  function fieldText(field, msgs) {
    return field === "transaction_pin" ? "Enter your 4-digit MPIN." : msgs;
  }

  // groupNepali puts commas in a run of digits the Nepali way, as the
  // server's money.Paisa.String does: "1234567" is "12,34,567".
  function groupNepali(digits) {
    if (digits.length <= 3) { return digits; }
    var head = digits.slice(0, -3), out = "";
    for (var i = 0; i < head.length; i++) {
      if (i > 0 && (head.length - i) % 2 === 0) { out += ","; }
      out += head.charAt(i);
    }
    return out + "," + digits.slice(-3);
  }

  function formatAmount(paisa) {
    var n = Number(paisa);
    if (!isFinite(n) || n < 0 || Math.floor(n) !== n) { return ""; }
    return "Rs " + groupNepali(String(Math.floor(n / 100))) + "." + String(100 + n % 100).slice(1);
  }

  // maskMobile shows the first 2 and last 3 digits, as internal/phone's
  // Mask does for the hosted page and the return_url: 98XXXXX001.
  function maskMobile(m) {
    m = String(m);
    if (m.length < 5) { return m; }
    return m.slice(0, 2) + new Array(m.length - 4).join("X") + m.slice(-3);
  }

  // call POSTs body as JSON and resolves to {ok, body}; a network failure
  // or a body that is not JSON resolves with ok false and a detail.
  function call(path, body) {
    return fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (res) {
      return res.json().then(function (data) {
        return { ok: res.ok, body: data && typeof data === "object" ? data : { detail: String(data) } };
      }, function () {
        return { ok: false, body: { detail: "Unexpected answer from the payment server (HTTP " + res.status + ")." } };
      });
    }, function () {
      return { ok: false, network: true, body: { detail: "Could not reach the payment server. Please try again." } };
    });
  }

  function setBusy(form, on) {
    busy = on;
    form.querySelector("button[type=submit]").disabled = on;
  }

  // buildMethods lists the merchant's preferred methods that this server
  // takes, the wallet always; with one method there is nothing to choose
  // and the list is hidden.
  function buildMethods(pref) {
    var list = [];
    (Array.isArray(pref) && pref.length ? pref : KINDS).forEach(function (k) {
      if (LABELS[k] && AVAILABLE[k] && list.indexOf(k) < 0) { list.push(k); }
    });
    if (list.indexOf("KHALTI") < 0) { list.unshift("KHALTI"); } // the one method Thaili has
    var nav = $("methods");
    nav.textContent = "";
    nav.hidden = list.length < 2;
    list.forEach(function (k) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = LABELS[k];
      b.setAttribute("data-kind", k);
      b.setAttribute("aria-selected", k === "KHALTI" ? "true" : "false");
      b.addEventListener("click", function () { selectMethod(k); });
      nav.appendChild(b);
    });
  }

  function selectMethod(kind) {
    Array.prototype.forEach.call($("methods").children, function (b) {
      b.setAttribute("aria-selected", b.getAttribute("data-kind") === kind ? "true" : "false");
    });
    if (kind !== "KHALTI") {
      show("unavailable");
    } else {
      show(token ? "otp-form" : "wallet-form");
    }
  }

  // start resets the widget for a (new) paymentInfo payload.
  function start(payload) {
    info = payload;
    token = null;
    pin = "";
    busy = false;
    clearErrors();
    $("wallet-form").reset();
    $("otp-form").reset();
    $("product-name").textContent = payload.productName ? String(payload.productName) : "";
    $("amount").textContent = formatAmount(payload.amount);
    // Khalti's test keys start so (docs/khalti.md §1); live keys never do.
    $("test-mode").hidden = String(payload.publicKey).indexOf("test_public_key_") !== 0;
    // As on the hosted page: the code step is the one that pays.
    $("otp-form").querySelector("button[type=submit]").textContent =
      formatAmount(payload.amount) ? "Pay " + formatAmount(payload.amount) : "Confirm payment";
    buildMethods(payload.paymentPreference);
    var mobile = $("mobile");
    mobile.readOnly = false;
    if (payload.mobile) {
      // A mobile given to show() is sent anyway (docs/khalti.md §7.3), so show it.
      mobile.value = String(payload.mobile);
      mobile.readOnly = true;
    }
    Array.prototype.forEach.call(document.querySelectorAll("button[type=submit]"), function (b) {
      b.disabled = false;
    });
    show("wallet-form");
  }

  function initiate(ev) {
    ev.preventDefault();
    if (busy || !info) { return; }
    clearErrors();
    var mobile = $("mobile").value.trim();
    var mpin = $("pin").value.trim();
    var bad = false;
    if (!/^\d{10}$/.test(mobile)) { fieldError("mobile", "Mobile number must be 10 digits long."); bad = true; }
    if (!/^\d{4}$/.test(mpin)) { fieldError("transaction_pin", "Enter your 4-digit MPIN."); bad = true; }
    if (bad) { return; }
    var body = {
      public_key: info.publicKey, product_identity: info.productIdentity, product_name: info.productName,
      amount: info.amount, transaction_pin: mpin, mobile: mobile, product_url: info.productUrl
    };
    Object.keys(info).forEach(function (k) {
      if (!OWN[k] && info[k] !== undefined && info[k] !== null && info[k] !== "") { body[k] = info[k]; }
    });
    var form = $("wallet-form");
    setBusy(form, true);
    call("/api/v2/payment/initiate/", body).then(function (res) {
      setBusy(form, false);
      var data = res.body;
      if (res.ok && data.token) {
        token = data.token;
        pin = mpin;
        var text = "Your MPIN is checked. To confirm that it is you paying, enter the 6-digit code we sent to " + maskMobile(body.mobile) + ".";
        if (data.pin_created && data.pin_created_message) { text += " " + data.pin_created_message; }
        $("otp-info").textContent = text;
        show("otp-form");
        return;
      }
      var payerFixable = false;
      ["mobile", "transaction_pin"].forEach(function (f) {
        payerFixable = (data[f] !== undefined && data[f] !== null && fieldError(f, fieldText(f, data[f]))) || payerFixable;
      });
      var merchant = false;
      ["amount", "public_key"].forEach(function (f) { merchant = fieldError(f, data[f]) || merchant; });
      if (data.detail !== undefined) {
        message("wallet", detailText(data, "wallet"));
        $("reset").hidden = data.error_key !== "third_party_transaction_locked";
        payerFixable = payerFixable || (!res.network && !merchant);
      } else if (!payerFixable && !merchant) {
        message("wallet", "The payment could not be started.");
      }
      if (!payerFixable) { post("widgetError", data); }
    });
  }

  function confirm(ev) {
    ev.preventDefault();
    if (busy || !info || !token) { return; }
    clearErrors();
    var code = $("code").value.trim();
    if (!/^\d{6}$/.test(code)) {
      fieldError("confirmation_code", "Confirmation Code must be 6 digits long.");
      return;
    }
    var form = $("otp-form");
    setBusy(form, true);
    call("/api/v2/payment/confirm/", {
      public_key: info.publicKey, transaction_pin: pin, token: token, confirmation_code: code
    }).then(function (res) {
      setBusy(form, false);
      var data = res.body;
      if (res.ok && data.idx) {
        var payload = {};
        Object.keys(data).forEach(function (k) { payload[k] = data[k]; });
        payload.widget_id = info.widgetId;
        token = null;
        show("done");
        post("walletPaymentVerification", payload);
        return;
      }
      if (fieldError("confirmation_code", data.confirmation_code)) { return; }
      if (data.detail !== undefined) {
        message("otp", detailText(data, "otp"));
        return;
      }
      message("otp", "The payment could not be confirmed.");
      post("widgetError", data);
    });
  }

  function close() {
    post("hide", { widget_id: info ? info.widgetId : undefined });
  }

  window.addEventListener("message", function (ev) {
    if (ev.source !== window.parent || window.parent === window) { return; }
    var d = ev.data;
    if (!d || typeof d !== "object" || d.realm !== "paymentInfo") { return; }
    var p = d.payload;
    // Khalti's loader may send paymentInfo before show() supplied the
    // amount; the form opens once a payload carries one.
    if (!p || typeof p !== "object" || p.amount === undefined || p.amount === null || p.amount === "") { return; }
    start(p);
  }, false);

  $("wallet-form").addEventListener("submit", initiate);
  $("otp-form").addEventListener("submit", confirm);
  $("back").addEventListener("click", function () {
    token = null;
    pin = "";
    clearErrors();
    $("otp-form").reset();
    $("pin").value = "";
    show("wallet-form");
  });
  $("close").addEventListener("click", close);
  // The card is a modal dialog: Escape closes it, and Tab cycles through
  // its controls instead of leaving for the merchant's page behind it.
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { close(); return; }
    if (ev.key !== "Tab") { return; }
    var items = Array.prototype.filter.call(document.querySelectorAll("button, input, a[href]"), function (e) {
      return !e.disabled && e.getClientRects().length > 0;
    });
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1], at = document.activeElement;
    if (ev.shiftKey && (at === first || items.indexOf(at) < 0)) {
      last.focus();
      ev.preventDefault();
    } else if (!ev.shiftKey && (at === last || items.indexOf(at) < 0)) {
      first.focus();
      ev.preventDefault();
    }
  });

  if (window.parent === window) {
    $("waiting").textContent = "This is the Thaili checkout widget. Open it with khalti-checkout.js from a merchant page.";
  }
  post("widgetLoad", { loaded: true });
})();
