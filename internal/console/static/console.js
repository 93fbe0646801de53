// Sesame console: small enhancements. Every page works without them.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function announce(msg) {
    var live = document.getElementById('live');
    if (live) { live.textContent = msg; }
  }

  // execCommand is the fallback where the Clipboard API is missing or
  // refused (plain HTTP on another host than localhost is not a secure
  // context).
  function fallbackCopy(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  function done(btn, ok) {
    var label = btn.dataset.label || btn.textContent;
    btn.dataset.label = label;
    if (ok) {
      btn.textContent = 'Copied ✔';
      announce('Copied to the clipboard.');
    } else {
      // Select the text so that Ctrl+C (or a long press) copies it.
      var code = btn.parentNode.querySelector('code');
      if (code) {
        var range = document.createRange();
        range.selectNodeContents(code);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      btn.textContent = 'Press Ctrl+C';
      announce('Copying failed: the text is selected, press Ctrl+C to copy it.');
    }
    setTimeout(function () { btn.textContent = label; }, 2000);
  }

  document.querySelectorAll('button.copy').forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var text = btn.dataset.copy;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(btn, true); },
          function () { done(btn, fallbackCopy(text)); });
      } else {
        done(btn, fallbackCopy(text));
      }
    });
  });

  document.querySelectorAll('select[data-autosubmit]').forEach(function (sel) {
    sel.addEventListener('change', function () { sel.form.submit(); });
  });

  document.querySelectorAll('button[data-busy]').forEach(function (btn) {
    btn.form.addEventListener('submit', function () {
      // Later, so the click still submits the form.
      setTimeout(function () { btn.disabled = true; btn.textContent = btn.dataset.busy; }, 0);
    });
  });

  // The doctor asks DNS, which may take seconds: load its findings after
  // the page, in place of the "Run the doctor" link.
  var doctor = document.getElementById('doctor');
  if (doctor && doctor.dataset.src) {
    var body = doctor.querySelector('.doctor-body');
    body.textContent = 'Diagnosing…';
    doctor.dataset.state = 'loading';
    fetch(doctor.dataset.src, { headers: { 'X-Console-Fragment': '1' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error('status ' + r.status)); })
      .then(function (html) {
        body.innerHTML = html; // the server's own escaped template output
        doctor.dataset.state = 'done';
      })
      .catch(function () {
        body.textContent = 'The doctor could not run. ';
        var a = document.createElement('a');
        a.href = doctor.dataset.src;
        a.textContent = 'Try again';
        body.appendChild(a);
        doctor.dataset.state = 'error';
      });
  }
})();
