// WebAuthn passkeys: registering one on the account page and using one at
// the sign-in's second step. The server sends the options webauthn-rs
// made (binary fields as base64url); this turns them into the buffers
// navigator.credentials wants and the answer back into base64url JSON.
(function () {
  function dec(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function enc(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function say(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.detail || j.title || "refused");
        return j;
      });
    });
  }
  function ids(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: dec(c.id) });
    });
  }

  var add = document.getElementById("add-passkey-form");
  if (add) {
    add.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var msg = document.getElementById("passkey-message");
      var csrf = add.elements.csrf.value;
      post("/account/passkeys/options", {
        csrf: csrf,
        password: add.elements.password ? add.elements.password.value : "",
        code: add.elements.code ? add.elements.code.value : "",
      })
        .then(function (start) {
          var o = start.options.publicKey;
          o.challenge = dec(o.challenge);
          o.user.id = dec(o.user.id);
          o.excludeCredentials = ids(o.excludeCredentials);
          return navigator.credentials.create({ publicKey: o }).then(function (c) {
            return post("/account/passkeys", {
              csrf: csrf,
              token: start.token,
              name: add.elements.name.value,
              credential: {
                id: c.id,
                rawId: enc(c.rawId),
                type: c.type,
                extensions: c.getClientExtensionResults(),
                response: {
                  attestationObject: enc(c.response.attestationObject),
                  clientDataJSON: enc(c.response.clientDataJSON),
                },
              },
            });
          });
        })
        .then(function () { window.location.assign("/account?passkey=added"); })
        .catch(function (e) { say(msg, "The passkey was not added: " + e.message); });
    });
  }

  var use = document.getElementById("use-passkey");
  if (use) {
    use.addEventListener("click", function (ev) {
      ev.preventDefault();
      var msg = document.getElementById("passkey-message");
      var csrf = use.getAttribute("data-csrf");
      post("/login/second-factor/passkey/options", { csrf: csrf })
        .then(function (start) {
          var o = start.options.publicKey;
          o.challenge = dec(o.challenge);
          o.allowCredentials = ids(o.allowCredentials);
          return navigator.credentials.get({ publicKey: o }).then(function (c) {
            return post("/login/second-factor/passkey", {
              csrf: csrf,
              token: start.token,
              credential: {
                id: c.id,
                rawId: enc(c.rawId),
                type: c.type,
                extensions: c.getClientExtensionResults(),
                response: {
                  authenticatorData: enc(c.response.authenticatorData),
                  clientDataJSON: enc(c.response.clientDataJSON),
                  signature: enc(c.response.signature),
                  userHandle: c.response.userHandle ? enc(c.response.userHandle) : null,
                },
              },
            });
          });
        })
        .then(function (done) { window.location.assign(done.redirect || "/"); })
        .catch(function (e) { say(msg, "The passkey did not sign you in: " + e.message); });
    });
  }
})();
