// The console's live brand preview: as the brand form changes, the frame beside it is asked
// for the preview of the form's values (nothing is saved until the form is). Works by event
// delegation, so it serves the page however it was reached. Without it, the frame shows the
// saved brand.

let pending;

function previewAddress(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value !== 'string') continue;
    const field = /^brand\[(\w+)\]$/.exec(name);
    if (field) params.append(field[1], value);
    else if (name === 'app') params.append('app', value);
  }
  return '/admin/branding/preview?' + params.toString();
}

document.addEventListener('input', (event) => {
  const form = event.target.closest && event.target.closest('form#brand-form');
  const frame = document.getElementById('brand-preview');
  if (!form || !frame) return;
  clearTimeout(pending);
  pending = setTimeout(() => {
    frame.src = previewAddress(form);
  }, 250);
});
