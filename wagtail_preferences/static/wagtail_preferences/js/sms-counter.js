/* Counts the characters and SMS of a textarea with data-wp-sms-counter, as
   wagtail_preferences.messaging.sms_text.sms_segments does: GSM-7 fits 160 characters in one
   SMS and 153 in each part of a longer one, its extension characters counting as two; any
   other character makes the text UCS-2, 70 and 67 UTF-16 units. */
(function () {
  'use strict';

  var GSM7_BASIC =
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  var GSM7_EXTENSION = '\f^{}\\[~]|€';

  function smsSegments(text, limits) {
    var gsm = true;
    var extended = 0;
    for (var i = 0; i < text.length; i++) {
      var char = text.charAt(i);
      if (GSM7_EXTENSION.indexOf(char) !== -1) {
        extended++;
      } else if (GSM7_BASIC.indexOf(char) === -1) {
        gsm = false;
        break;
      }
    }
    // text.length counts UTF-16 units, as UCS-2 does.
    var length = gsm ? text.length + extended : text.length;
    var single = gsm ? limits[0] : limits[2];
    var part = gsm ? limits[1] : limits[3];
    var segments = length === 0 ? 0 : length <= single ? 1 : Math.ceil(length / part);
    return { length: length, segments: segments, encoding: gsm ? 'GSM-7' : 'UCS-2' };
  }

  function attach(textarea) {
    if (textarea.dataset.wpSmsCounterReady) return;
    textarea.dataset.wpSmsCounterReady = 'true';
    var limits = textarea.dataset.wpSmsLimits.split(' ').map(Number);
    var output = document.createElement('p');
    output.className = 'help';
    output.setAttribute('aria-live', 'polite');
    output.id = textarea.id + '-sms-count';
    textarea.setAttribute('aria-describedby', output.id);
    textarea.insertAdjacentElement('afterend', output);
    function update() {
      var count = smsSegments(textarea.value, limits);
      output.textContent = textarea.dataset.wpSmsFormat
        .replace('%(length)s', count.length)
        .replace('%(encoding)s', count.encoding)
        .replace('%(segments)s', count.segments);
    }
    textarea.addEventListener('input', update);
    update();
  }

  function attachAll() {
    document.querySelectorAll('textarea[data-wp-sms-counter]').forEach(attach);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', attachAll);
  } else {
    attachAll();
  }
})();
