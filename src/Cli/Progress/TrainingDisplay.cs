using Spectre.Console;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>Chooses the progress display: live bars when the command writes to an interactive terminal, plain lines otherwise.</summary>
internal static class TrainingDisplay
{
    /// <summary>
    /// Runs <paramref name="work"/> with a reporter that writes to <paramref name="output"/> (or the live terminal); plain output
    /// gets a line every <paramref name="logEvery"/> steps when it is positive.
    /// </summary>
    public static T Run<T>(TextWriter output, Func<ITrainingReporter, T> work, int logEvery = 0)
    {
        // Tests and redirected output (logs, pipes) get lines; only the real console gets bars.
        bool live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!live)
            return work(new PlainReporter(output, logEvery));
        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(true) // a finished run's bars give way to the next run's; its epoch lines stay
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new SpectreReporter(context)));
    }
}
