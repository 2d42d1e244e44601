// Draws the jobs dashboard's chart from the JSON the page carries, and again
// after htmx refreshes the page's live part.
(function () {
  let chart = null;
  function draw() {
    const data = document.getElementById('jobs-history');
    const canvas = document.getElementById('jobs-chart');
    if (!data || !canvas || typeof Chart === 'undefined') return;
    const history = JSON.parse(data.textContent);
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels: history.labels,
        datasets: [
          { label: 'Processed', data: history.processed, borderColor: '#14532d', backgroundColor: '#14532d', tension: 0.2, pointRadius: 0 },
          { label: 'Failed', data: history.failed, borderColor: '#a3261d', backgroundColor: '#a3261d', tension: 0.2, pointRadius: 0 }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        interaction: { mode: 'index', intersect: false }
      }
    });
  }
  document.addEventListener('DOMContentLoaded', draw);
  document.addEventListener('htmx:afterSettle', draw);
})();
