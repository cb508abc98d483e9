using System.Globalization;
using Microsoft.ML.CompactTransformer.Training;
using Spectre.Console;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>Live progress on a terminal: an epoch bar and a batch bar (with the running loss), each with elapsed time and ETA.</summary>
internal sealed class SpectreReporter(ProgressContext context) : ITrainingReporter
{
    private ProgressTask? epochTask;
    private ProgressTask? batchTask;
    private string title = "";
    private int epochs;

    public void StartRun(string title, int epochs, int firstEpoch = 1)
    {
        this.title = title;
        this.epochs = epochs;
        epochTask?.StopTask();
        batchTask?.StopTask();
        epochTask = context.AddTask(Markup.Escape(title), maxValue: epochs);
        epochTask.Value = firstEpoch - 1;
        batchTask = context.AddTask("  batches", maxValue: 1);
    }

    public void Step(StepProgress step)
    {
        if (batchTask is null)
            return;
        if (step.Step <= 1 || batchTask.MaxValue != step.StepsPerEpoch)
            batchTask.MaxValue = step.StepsPerEpoch;
        batchTask.Value = step.Step; // back to the left when a new epoch starts
        batchTask.Description = Markup.Escape(
            $"  epoch {step.Epoch}/{step.Epochs} loss {step.RunningLoss.ToString("F4", CultureInfo.InvariantCulture)}");
    }

    public void Epoch(EpochMetrics metrics)
    {
        if (epochTask is not null)
            epochTask.Value = metrics.Epoch;
        Line($"{title}: {EpochLine.Format(metrics, epochs)}");
    }

    // The live display keeps its bars at the bottom and prints this above them.
    public void Line(string text) => AnsiConsole.WriteLine(text);
}
