export function ReliabilityPane() {
  return (
    <section className="pane" aria-labelledby="reliability-title" data-testid="reliability-pane">
      <h2 id="reliability-title">Reliability</h2>
      <div className="empty-state">
        <p>No scorecard yet.</p>
        <p className="muted">
          The reliability harness measures crash recovery, ledger integrity and approval handling. Its scorecard will appear here.
        </p>
      </div>
    </section>
  );
}
