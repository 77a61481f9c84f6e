// Reads the chosen file and sends it base64-encoded in the attach form
// (plain form posts, no multipart parser on the server).
(function () {
  var form = document.getElementById("attach-form");
  if (!form) return;
  form.addEventListener("submit", function (ev) {
    var input = document.getElementById("attach-file");
    if (!input.files.length || form.elements.content.value) return;
    ev.preventDefault();
    var file = input.files[0];
    var reader = new FileReader();
    reader.onload = function () {
      var url = reader.result;
      form.elements.name.value = file.name;
      form.elements.media_type.value = file.type || "application/octet-stream";
      form.elements.content.value = url.slice(url.indexOf(",") + 1);
      form.submit();
    };
    reader.readAsDataURL(file);
  });
})();
