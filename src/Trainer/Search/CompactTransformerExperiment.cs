namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// A hyperparameter search for the Compact Transformer trainer with the shape of AutoML's <c>AutoMLExperiment</c>:
/// set the data, the metric, a budget, the tuner and a monitor, then <see cref="RunAsync"/>. It samples the search space's
/// <c>[Range]</c>/<c>[Choice]</c> attributes (<see cref="CompactTransformerSearchSpace"/> unless
/// <see cref="SetSearchSpace{T}"/> names another), trains one trial at a time, records every finished trial in a
/// checkpoint folder so that a stopped search resumes where it stopped, and returns the best model.
/// </summary>
/// <example>
/// <code>
/// var result = await new CompactTransformerExperiment(mlContext, new CompactTransformerOptions { FeatureColumnName = "Pixels", Epochs = 27 })
///     .SetDataset(train, validation)
///     .SetMetric(SearchMetric.MicroAccuracy)
///     .SetSuccessiveHalvingTuner(minEpochs: 3, maxEpochs: 27)
///     .SetEpochBudget(270)
///     .SetCheckpointFolder("search")
///     .RunAsync();
/// mlContext.Model.Save(result.BestModel, train.Schema, "best.zip");
/// </code>
/// </example>
public sealed class CompactTransformerExperiment
{
    private readonly MLContext mlContext;
    private readonly CompactTransformerOptions baseOptions;
    private IDataView? train;
    private IDataView? validation;
    private double? validationFraction;
    private SearchSpaceDefinition space = SearchSpaceDefinition.Of<CompactTransformerSearchSpace>();
    private SearchMetric metric = SearchMetric.MicroAccuracy;
    private Func<SearchSpaceDefinition, int, ISearchTuner>? tunerFactory;
    private ISearchMonitor? monitor;
    private string? checkpointFolder;
    private int? maxTrials;
    private int? epochBudget;
    private TimeSpan? timeLimit;
    private int seed;

    /// <summary>Creates an experiment.</summary>
    /// <param name="mlContext">Context for splitting, evaluating and saving.</param>
    /// <param name="baseOptions">Settings every trial starts from (columns, batch size, epochs, ...); each trial applies its point to a copy.</param>
    public CompactTransformerExperiment(MLContext mlContext, CompactTransformerOptions? baseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        this.mlContext = mlContext;
        this.baseOptions = baseOptions ?? new CompactTransformerOptions();
    }

    /// <summary>Trains on <paramref name="trainData"/> and scores every trial on <paramref name="validationData"/>.</summary>
    public CompactTransformerExperiment SetDataset(IDataView trainData, IDataView validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        ArgumentNullException.ThrowIfNull(validationData);
        (train, validation, validationFraction) = (trainData, validationData, null);
        return this;
    }

    /// <summary>Holds out <paramref name="fraction"/> of <paramref name="data"/> (split with the experiment's seed) to score trials on.</summary>
    public CompactTransformerExperiment SetDataset(IDataView data, double fraction = 0.2)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must lie strictly between 0 and 1.");
        (train, validation, validationFraction) = (data, null, fraction);
        return this;
    }

    /// <summary>Searches <typeparamref name="T"/>'s attributed members instead of <see cref="CompactTransformerSearchSpace"/>'s.</summary>
    public CompactTransformerExperiment SetSearchSpace<T>() where T : class, ICompactTransformerSearchSpace, new()
    {
        space = SearchSpaceDefinition.Of<T>();
        return this;
    }

    /// <summary>The metric to optimise (micro accuracy by default).</summary>
    public CompactTransformerExperiment SetMetric(SearchMetric searchMetric)
    {
        metric = searchMetric;
        return this;
    }

    /// <summary>Stops starting trials after this long, and stops a trial still running then (it is not recorded).</summary>
    public CompactTransformerExperiment SetTrainingTimeInSeconds(uint seconds)
    {
        ArgumentOutOfRangeException.ThrowIfZero(seconds);
        timeLimit = TimeSpan.FromSeconds(seconds);
        return this;
    }

    /// <summary>Runs at most this many trials (a promotion counts as a trial).</summary>
    public CompactTransformerExperiment SetMaxTrials(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        maxTrials = count;
        return this;
    }

    /// <summary>Trains at most this many epochs over all trials; the fair budget for comparing tuners.</summary>
    public CompactTransformerExperiment SetEpochBudget(int totalEpochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalEpochs, 1);
        epochBudget = totalEpochs;
        return this;
    }

    /// <summary>Random search, every trial trained for <paramref name="epochs"/> epochs.</summary>
    public CompactTransformerExperiment SetRandomSearchTuner(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        tunerFactory = (s, tunerSeed) => new RandomSearchTuner(s, epochs, tunerSeed);
        return this;
    }

    /// <summary>
    /// Asynchronous successive halving over epochs (the default, with <paramref name="maxEpochs"/> = the base options'
    /// epochs and <paramref name="minEpochs"/> = a ninth of them); see <see cref="SuccessiveHalvingTuner"/> and <see cref="PromotionMode"/>.
    /// </summary>
    public CompactTransformerExperiment SetSuccessiveHalvingTuner(int minEpochs, int maxEpochs, int reductionFactor = 3,
        PromotionMode promotion = PromotionMode.ContinueTraining)
    {
        _ = new SuccessiveHalvingTuner(space, minEpochs, maxEpochs, reductionFactor, 0, promotion); // validates the arguments now
        tunerFactory = (s, tunerSeed) => new SuccessiveHalvingTuner(s, minEpochs, maxEpochs, reductionFactor, tunerSeed, promotion);
        return this;
    }

    /// <summary>Any tuner, built from the search space and the experiment's seed.</summary>
    public CompactTransformerExperiment SetTuner(Func<SearchSpaceDefinition, int, ISearchTuner> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        tunerFactory = factory;
        return this;
    }

    /// <summary>Told when trials start, finish, fail and become best.</summary>
    public CompactTransformerExperiment SetMonitor(ISearchMonitor searchMonitor)
    {
        ArgumentNullException.ThrowIfNull(searchMonitor);
        monitor = searchMonitor;
        return this;
    }

    /// <summary>
    /// Keeps <c>trials.csv</c>, the learning curves and the trial models in <paramref name="folder"/>; a run pointed at a
    /// folder that already holds trials of the same search replays them instead of training them again. Without a folder
    /// a temporary one is used and deleted when the run ends.
    /// </summary>
    public CompactTransformerExperiment SetCheckpointFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        checkpointFolder = folder;
        return this;
    }

    /// <summary>Seed of the tuner and the validation split (trial training uses the base options' seed).</summary>
    public CompactTransformerExperiment SetSeed(int experimentSeed)
    {
        seed = experimentSeed;
        return this;
    }

    /// <summary>
    /// Runs the search on a worker thread. Cancelling stops the running trial (it is not recorded) and returns the best found
    /// so far.
    /// </summary>
    /// <exception cref="InvalidOperationException">No dataset or budget was set, or no trial completed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before any trial completed.</exception>
    public Task<CompactTransformerSearchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        if (train is null)
            throw new InvalidOperationException("Call SetDataset before RunAsync.");
        if (maxTrials is null && epochBudget is null && timeLimit is null)
            throw new InvalidOperationException("Set a budget before RunAsync: SetTrainingTimeInSeconds, SetMaxTrials or SetEpochBudget.");
        return Task.Run(() => Run(cancellationToken), CancellationToken.None);
    }

    private CompactTransformerSearchResult Run(CancellationToken cancellationToken)
    {
        var (trainData, validationData) = validation is null
            ? Split(train!, validationFraction!.Value)
            : (train!, validation);
        int maxEpochs = baseOptions.Epochs ?? Training.TrainingRecipes.Get(baseOptions.Recipe).Settings.Epochs;
        var factory = tunerFactory ?? ((s, tunerSeed) => new SuccessiveHalvingTuner(s, Math.Max(1, maxEpochs / 9), maxEpochs, 3, tunerSeed));
        var folder = checkpointFolder ?? Path.Combine(Path.GetTempPath(), $"cct-search-{Guid.NewGuid():N}");
        try
        {
            var checkpoint = new SearchCheckpoint(folder, space);
            var loop = new SearchLoop
            {
                Tuner = factory(space, seed),
                Runner = new CompactTransformerTrialRunner(mlContext, trainData, validationData, baseOptions, space, metric, checkpoint),
                Space = space,
                Metric = metric,
                MaxTrials = maxTrials,
                MaxEpochs = epochBudget,
                TimeLimit = timeLimit,
                Checkpoint = checkpoint,
                Monitor = monitor,
            };
            var outcome = loop.Run(cancellationToken);
            if (outcome.Best is null)
            {
                outcome.BestModel?.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                var error = outcome.Trials.LastOrDefault(t => t.Error is not null)?.Error;
                throw new InvalidOperationException($"The search stopped ({outcome.StopReason}) before any trial completed." +
                    (error is null ? " Give it a larger budget." : $" The last trial failed with: {error}"));
            }
            var bestModel = outcome.BestModel ?? Rebuild(outcome.Best, trainData);
            var trials = checkpointFolder is null ? outcome.Trials.Select(t => t with { ModelPath = null }).ToArray() : outcome.Trials;
            var best = trials.Single(t => t.TrialId == outcome.Best.TrialId);
            return new CompactTransformerSearchResult(bestModel, best, trials, outcome.StopReason, outcome.TotalEpochs, outcome.Elapsed);
        }
        finally
        {
            if (checkpointFolder is null && Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private (IDataView Train, IDataView Validation) Split(IDataView data, double fraction)
    {
        var split = mlContext.Data.TrainTestSplit(data, testFraction: fraction, seed: seed);
        return (split.TrainSet, split.TestSet);
    }

    // The best trial ran in an earlier session: its saved zip holds the network, classes, normalisation and history.
    private CompactTransformerModel Rebuild(TrialResult best, IDataView trainData)
    {
        var path = best.ModelPath ?? throw new InvalidOperationException($"The best trial {best.TrialId} was read from the checkpoint but has no saved model.");
        var saved = CompactTransformerModelFile.Read(path);
        using var network = saved.CreateNetwork();
        return CompactTransformerModelBuilder.Build(mlContext, trainData.Schema, baseOptions.FeatureColumnName, network, saved.ClassNames,
            saved.Normalization, best.History, baseOptions.ScoreColumnName, baseOptions.PredictedLabelColumnName, baseOptions.LabelColumnName);
    }
}
