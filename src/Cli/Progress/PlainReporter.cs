using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>Progress for logs and tests: a line per run and per epoch, nothing per step.</summary>
internal sealed class PlainReporter(TextWriter output) : ITrainingReporter
{
    private int epochs;

    public void StartRun(string title, int epochs, int firstEpoch = 1)
    {
        this.epochs = epochs;
        Line(firstEpoch > 1 ? $"{title}: epochs {firstEpoch}..{epochs}" : $"{title}: {epochs} epoch(s)");
    }

    public void Step(StepProgress step)
    {
    }

    public void Epoch(EpochMetrics metrics) => Line(EpochLine.Format(metrics, epochs));

    public void Line(string text)
    {
        // Training reports from its own thread; keep lines whole.
        lock (output)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }
}
