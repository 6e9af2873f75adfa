export function RunsPane() {
  return (
    <section className="pane" aria-labelledby="runs-title" data-testid="runs-pane">
      <h2 id="runs-title">Runs</h2>
      <div className="empty-state">
        <p>No runs yet.</p>
        <p className="muted">A run is one task on one workspace with one agent. Runs you start will appear here.</p>
      </div>
    </section>
  );
}
