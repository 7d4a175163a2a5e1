// Thaili's drop-in replacement for Khalti's web checkout loader
// (khalti-checkout.iffe.js, v2.1): it defines window.KhaltiCheckout with the
// same API (docs/khalti.md §7.1) and opens the checkout widget of the Thaili host
// this script was loaded from, so a merchant changes only the script tag.
(function (window, document) {
  "use strict";

  var here = document.currentScript && document.currentScript.src
    ? document.currentScript.src : window.location.href;
  // The widget lives beside this script (at <origin>/kpg/ on a Thaili host).
  var WIDGET_URL = new URL("payment_gateway_widget.html", here).href;
  var LOADER_URL = new URL("icons/infinity-loader.svg", here).href;
  var WIDGET_ORIGIN = new URL(WIDGET_URL).origin;

  var PAYMENT_TYPES = {
    EBANKING: "EBANKING", MOBILE_BANKING: "MOBILE_BANKING", CONNECT_IPS: "CONNECT_IPS", SCT: "SCT", KHALTI: "KHALTI"
  };
  var REQUIRED = "This field is required.";

  function missing(v) { return v === undefined || v === null || v === ""; }
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  // validate checks a config as Khalti's loader does at show(), returning
  // the errors by field, or null.
  function validate(config) {
    var errors = {};
    ["publicKey", "productUrl", "productIdentity", "productName", "eventHandler", "amount"].forEach(function (k) {
      if (missing(config[k])) { errors[k] = REQUIRED; }
    });
    if (!missing(config.merchantData) && !isObject(config.merchantData)) {
      errors.merchantData = "This field must be an object.";
    }
    if (!missing(config.paymentPreference) && !Array.isArray(config.paymentPreference)) {
      errors.paymentPreference = "This field must be an array.";
    }
    if (!errors.eventHandler) {
      var h = config.eventHandler, he = {};
      if (missing(h.onSuccess)) {
        he.onSuccess = REQUIRED;
      } else if (typeof h.onSuccess !== "function") {
        he.onSuccess = "This field must be a function.";
      }
      ["onError", "onClose"].forEach(function (k) {
        if (!missing(h[k]) && typeof h[k] !== "function") { he[k] = "This field must be a function."; }
      });
      if (Object.keys(he).length) { errors.eventHandler = he; }
    }
    return Object.keys(errors).length ? errors : null;
  }

  function clone(v) { return v === undefined ? v : JSON.parse(JSON.stringify(v)); }

  /**
   * KhaltiCheckout is one checkout widget for one config.
   * @param {Object} config publicKey, productIdentity, productName,
   *   productUrl, eventHandler {onSuccess, onError, onClose}, and optionally
   *   paymentPreference, merchantData, merchant_* keys, amount, mobile.
   */
  function KhaltiCheckout(config) {
    if (!(this instanceof KhaltiCheckout)) { throw new TypeError("KhaltiCheckout must be called with new"); }
    this._config = config || {};
    this._widgetId = "khalti-widget-" + Date.now();
    this._loaded = false;
    this._shown = false;
    this._frame = null;
    this._spinner = null;
    this._overflow = null;
    this.paymentType = PAYMENT_TYPES;
    this._onMessage = this._receive.bind(this);
    window.addEventListener("message", this._onMessage, false);
    if (document.body) {
      this._attach();
    } else {
      document.addEventListener("DOMContentLoaded", this._attach.bind(this));
    }
  }

  // _attach creates the hidden full-screen iframe (and its loading
  // indicator) once; the widget loads while the page is idle.
  KhaltiCheckout.prototype._attach = function () {
    if (this._frame) { return; }
    var f = document.createElement("iframe");
    f.id = this._widgetId;
    f.title = "Khalti checkout";
    f.src = WIDGET_URL;
    f.setAttribute("frameborder", "0");
    f.setAttribute("allowtransparency", "true");
    var s = f.style;
    s.position = "fixed"; s.top = "0"; s.left = "0"; s.width = "100%"; s.height = "100%";
    s.border = "0"; s.margin = "0"; s.padding = "0"; s.background = "transparent";
    s.zIndex = "999999999"; s.display = "none";
    var d = document.createElement("div");
    var ds = d.style;
    ds.position = "fixed"; ds.top = "0"; ds.left = "0"; ds.width = "100%"; ds.height = "100%";
    ds.zIndex = "999999999"; ds.display = "none"; ds.alignItems = "center"; ds.justifyContent = "center";
    ds.background = "rgba(20, 20, 30, .55)";
    var img = document.createElement("img");
    img.src = LOADER_URL;
    img.alt = "Loading";
    img.width = 80;
    img.height = 80;
    d.appendChild(img);
    document.body.appendChild(d);
    document.body.appendChild(f);
    this._frame = f;
    this._spinner = d;
  };

  // _send posts a message to the widget, and only to the widget's origin.
  KhaltiCheckout.prototype._send = function (realm, payload) {
    if (this._frame && this._frame.contentWindow) {
      this._frame.contentWindow.postMessage({ realm: realm, payload: payload }, WIDGET_ORIGIN);
    }
  };

  // _paymentInfo sends the config minus eventHandler (docs/khalti.md §7.2).
  KhaltiCheckout.prototype._paymentInfo = function () {
    var info = {};
    var c = this._config;
    Object.keys(c).forEach(function (k) {
      if (k !== "eventHandler") { info[k] = clone(c[k]); }
    });
    info.widgetId = this._widgetId;
    info.source = "checkout_v2.1";
    this._send("paymentInfo", info);
  };

  // _receive handles the widget's messages; messages from any other
  // window, or from another origin, are ignored.
  KhaltiCheckout.prototype._receive = function (e) {
    if (!this._frame || e.source !== this._frame.contentWindow || e.origin !== WIDGET_ORIGIN) { return; }
    var data = e.data;
    if (!data || typeof data !== "object" || typeof data.realm !== "string") { return; }
    var payload = data.payload;
    var h = this._config.eventHandler || {};
    switch (data.realm) {
      case "widgetLoad":
      case "widgetInit":
        this._loaded = true;
        if (this._spinner) { this._spinner.style.display = "none"; }
        if (this._shown) { this._paymentInfo(); }
        break;
      case "walletPaymentVerification":
        if (!payload || payload.widget_id !== this._widgetId || typeof h.onSuccess !== "function") { return; }
        try {
          h.onSuccess(payload);
        } finally {
          this.hide();
        }
        break;
      case "widgetError":
        // Khalti's v2.1 loader drops these (the payload has no widget_id);
        // Thaili calls onError as the documentation promises.
        if (typeof h.onError === "function") { h.onError(payload); }
        break;
      case "hide":
        this.hide();
        if (typeof h.onClose === "function") { h.onClose(); }
        break;
    }
  };

  /**
   * show merges updates (normally {amount, mobile}) into the config,
   * validates it, throwing Error(JSON.stringify(errors)) when invalid, and
   * opens the widget.
   */
  KhaltiCheckout.prototype.show = function (updates) {
    if (updates) {
      for (var k in updates) {
        if (Object.prototype.hasOwnProperty.call(updates, k)) { this._config[k] = updates[k]; }
      }
    }
    var errors = validate(this._config);
    if (errors) { throw new Error(JSON.stringify(errors)); }
    this._attach();
    if (this._overflow === null) {
      this._overflow = document.body.style.overflowY;
      document.body.style.overflowY = "hidden";
    }
    this._shown = true;
    this._frame.style.display = "block";
    if (this._loaded) {
      this._paymentInfo();
    } else {
      this._spinner.style.display = "flex";
    }
  };

  /** hide closes the widget without calling any handler. */
  KhaltiCheckout.prototype.hide = function () {
    this._shown = false;
    if (this._frame) { this._frame.style.display = "none"; }
    if (this._spinner) { this._spinner.style.display = "none"; }
    if (this._overflow !== null) {
      document.body.style.overflowY = this._overflow;
      this._overflow = null;
    }
  };

  window.KhaltiCheckout = KhaltiCheckout;
})(window, document);
