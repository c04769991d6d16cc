// The dashboard's own script. The Content-Security-Policy allows no inline script
// and no eval (htmx's trigger filters included), so what pages do besides htmx's
// attributes is here: the operator's tenant picker shows a tenant as soon as it is
// picked, and the jobs table's live refresh is skipped while "Live refresh" is off.
document.addEventListener('change', (event) => {
  const picked = event.target;
  if (picked instanceof HTMLSelectElement && picked.closest('form.tenant-picker')) {
    picked.form.submit();
  }
});
document.addEventListener('htmx:beforeRequest', (event) => {
  const live = document.getElementById('live');
  if (event.detail.elt.id === 'jobs-table' && live && !live.checked) {
    event.preventDefault();
  }
});
