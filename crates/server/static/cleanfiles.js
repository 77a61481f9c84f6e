// Hashes files chosen or dropped on the clean-files page with the browser's
// own SHA-256 (Web Crypto) and adds "hash  name" lines to the lookup box.
// The files never leave the browser.
(function () {
  "use strict";
  var box = document.getElementById("hashes");
  var input = document.getElementById("hash-files");
  var drop = document.getElementById("drop");
  var status = document.getElementById("hash-status");
  if (!box || !input || !drop) { return; }
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function hashFiles(files) {
    if (!window.crypto || !window.crypto.subtle) {
      status.textContent = "this browser cannot hash files here (a secure connection is needed)";
      return;
    }
    var list = Array.prototype.slice.call(files);
    status.textContent = "hashing " + list.length + " file(s)…";
    Promise.all(list.map(function (f) {
      return f.arrayBuffer().then(function (data) {
        return crypto.subtle.digest("SHA-256", data);
      }).then(function (d) { return hex(d) + "  " + f.name; });
    })).then(function (lines) {
      var text = box.value.replace(/\s+$/, "");
      box.value = (text ? text + "\n" : "") + lines.join("\n") + "\n";
      status.textContent = lines.length + " file(s) hashed";
      status.dataset.done = String(lines.length);
    }, function (err) {
      status.textContent = "cannot hash: " + err;
    });
  }
  input.addEventListener("change", function () { hashFiles(input.files); });
  drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    drop.classList.remove("over");
    hashFiles(e.dataTransfer.files);
  });
}());
