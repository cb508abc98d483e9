using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Runs a trial with the trainer: the base options with the point applied, <see cref="CompactTransformerEstimator.Fit(IDataView, IDataView?, CancellationToken)"/>,
/// the metric from ML.NET's own evaluator on the validation data, and the model saved in the checkpoint folder (successive
/// halving continues promoted trials from it; a resumed search rebuilds its best model from it).
/// </summary>
internal sealed class CompactTransformerTrialRunner(
    MLContext mlContext, IDataView train, IDataView validation, CompactTransformerOptions baseOptions,
    SearchSpaceDefinition space, SearchMetric metric, SearchCheckpoint checkpoint) : ITrialRunner
{
    public TrialSettings Prepare(int trialId, TrialRequest request, TrialResult? parent)
    {
        var options = OptionsCopy.Of(baseOptions);
        var point = (ICompactTransformerSearchSpace)space.Create(request.Parameters);
        point.ApplyTo(options);
        options.Epochs = request.EpochsToTrain;
        if (parent is not null)
        {
            options.InitialWeightsPath = parent.ModelPath
                ?? throw new InvalidOperationException($"Trial {trialId} continues trial {parent.TrialId}, whose model was not saved.");
            // The network is already past its warmup; a second one would undo part of what it learned.
            options.WarmupEpochs = 0;
            // Fresh data order and augmentation for the new epochs, instead of replaying the first ones.
            options.Seed = baseOptions.Seed + request.StartEpochs;
        }
        return new TrialSettings(trialId, request, options);
    }

    public TrialOutcome Run(TrialSettings settings, TrialResult? parent, CancellationToken cancellationToken)
    {
        var options = settings.Options!;
        if (options.InitialWeightsPath is { } weights && !File.Exists(weights))
            throw new FileNotFoundException($"Trial {settings.TrialId} continues from '{weights}', which is missing from the checkpoint folder.", weights);
        var model = new CompactTransformerEstimator(options).Fit(train, validation, cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(validation),
                labelColumnName: options.LabelColumnName, scoreColumnName: options.ScoreColumnName,
                predictedLabelColumnName: options.PredictedLabelColumnName);
            double value = metric switch
            {
                SearchMetric.MicroAccuracy => metrics.MicroAccuracy,
                SearchMetric.MacroAccuracy => metrics.MacroAccuracy,
                SearchMetric.LogLoss => metrics.LogLoss,
                _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown search metric."),
            };
            var path = checkpoint.ModelPath(settings.TrialId);
            AtomicFile.Write(path, temporary => mlContext.Model.Save(model, train.Schema, temporary));
            return new TrialOutcome(value, Continue(parent?.History, model.History), path, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The parent's curve followed by this trial's, with epochs and steps counted on from the parent's.</summary>
    private static TrainingHistory Continue(TrainingHistory? before, TrainingHistory after)
    {
        if (before is null || before.Epochs.Count == 0)
            return after;
        var last = before.Epochs[^1];
        return new TrainingHistory(before.Epochs.Concat(after.Epochs.Select(e => e with
        {
            Epoch = e.Epoch + last.Epoch,
            Steps = e.Steps + last.Steps,
        })).ToArray());
    }
}
