using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Trains a Compact Convolutional Transformer (or CVT / ViT-Lite) for multiclass image classification with
/// TorchSharp, and returns a <see cref="CompactTransformerModel"/> made of stock ML.NET transforms.
/// Create it with <c>mlContext.MulticlassClassification.Trainers.CompactTransformer(...)</c>.
/// </summary>
public sealed class CompactTransformerEstimator : IEstimator<CompactTransformerModel>
{
    private readonly CompactTransformerOptions options;
    private readonly MLContext mlContext;

    /// <summary>Creates the estimator. ML.NET keeps the catalog's context internal, so the stock transforms use their own seeded one.</summary>
    /// <exception cref="ArgumentException">
    /// An option cannot train (e.g. a non-positive <see cref="CompactTransformerOptions.Epochs"/>, <see cref="CompactTransformerOptions.BatchSize"/>
    /// or <see cref="CompactTransformerOptions.LearningRate"/>, or an unknown <see cref="CompactTransformerOptions.Architecture"/>);
    /// the message names the option. Fit checks the options again, since their fields may change afterwards.
    /// </exception>
    public CompactTransformerEstimator(CompactTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FitInputChecks.CheckOptions(options);
        this.options = options;
        mlContext = new MLContext(options.Seed);
    }

    /// <summary>The options this estimator trains with.</summary>
    public CompactTransformerOptions Options => options;

    /// <summary>Trains on <paramref name="input"/> without a validation set.</summary>
    public CompactTransformerModel Fit(IDataView input) => Fit(input, null, CancellationToken.None);

    /// <summary>Trains on <paramref name="trainData"/> and evaluates <paramref name="validationData"/> after every epoch.</summary>
    public CompactTransformerModel Fit(IDataView trainData, IDataView? validationData) => Fit(trainData, validationData, CancellationToken.None);

    /// <summary>
    /// Trains; a cancelled token stops at the next batch boundary and the model trained so far is returned.
    /// </summary>
    /// <remarks>
    /// Bad input is refused before training starts. A batch size larger than the training set is allowed: each epoch is
    /// then one batch of all the images. Image columns of mixed sizes are allowed: every image is resized to the
    /// model's size.
    /// </remarks>
    /// <param name="trainData">The training rows: a key-typed label column and a feature column (see <see cref="CompactTransformerOptions"/>).</param>
    /// <param name="validationData">
    /// Evaluated after every epoch; null for none. It must have the training data's columns, a feature column of the same
    /// kind (pixel vectors of the same length), the same classes in the same key order, and at least one row.
    /// </param>
    /// <param name="cancellationToken">Stops training at the next batch boundary.</param>
    /// <exception cref="ArgumentException">
    /// An option cannot train; a column is missing or has the wrong type; a pixel vector's length is no C*H*W image for the
    /// options; <paramref name="trainData"/> has no rows or a single class; <paramref name="validationData"/> has no rows or does
    /// not match <paramref name="trainData"/>. The message names the option, argument or column and what was expected.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// A row holds a value training cannot use (a missing label, a NaN or infinite pixel, bytes that are no image); the
    /// message names the row and column.
    /// </exception>
    public CompactTransformerModel Fit(IDataView trainData, IDataView? validationData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        FitInputChecks.CheckOptions(options);
        FitInputChecks.CheckColumns(trainData.Schema, options, nameof(trainData));
        if (validationData is not null)
            FitInputChecks.CheckValidationColumns(trainData.Schema, validationData.Schema, options);
        var (alpha, beta) = AttentionVariantWeights.Resolve(options.Attention, options.Alpha, options.Beta);
        // Every other setting is checked now too, so that a bad one fails before the data is read.
        TrainingSettingsFrom(options, alpha, beta).Validate();
        // Before any data is read: a Cuda request on a machine without CUDA fails at once, naming this option.
        var device = TrainingDevices.Resolve(options.Device, $"{nameof(CompactTransformerOptions)}.{nameof(CompactTransformerOptions.Device)}");
        var preset = options.CustomArchitecture ?? CctPresets.Get(options.Architecture);
        var kind = FeatureColumnKinds.Of(trainData.Schema[options.FeatureColumnName].Type)!.Value;
        bool imageColumn = kind is FeatureColumnKind.Image or FeatureColumnKind.EncodedImage;
        // Image columns are brought to the architecture's size unless the options name one.
        int? height = Positive(options.ImageHeight) ?? (imageColumn ? preset.ImageHeight : null);
        int? width = Positive(options.ImageWidth) ?? (imageColumn ? preset.ImageWidth : null);
        var train = DataViewImageReader.Read(trainData, options.LabelColumnName, options.FeatureColumnName, Positive(options.Channels), height, width);
        FitInputChecks.CheckTrainingSet(train, options.LabelColumnName);
        ImageDataset? validation = null;
        if (validationData is not null)
        {
            validation = DataViewImageReader.Read(validationData, options.LabelColumnName, options.FeatureColumnName, train.Channels, train.Height, train.Width);
            FitInputChecks.CheckValidationSet(validation);
            if (!validation.ClassNames.SequenceEqual(train.ClassNames))
                throw new ArgumentException(
                    $"The validationData label '{options.LabelColumnName}' has classes [{string.Join(", ", validation.ClassNames)}]; expected the training label's " +
                    $"[{string.Join(", ", train.ClassNames)}] in the same key order. Map both with the same fitted MapValueToKey.", nameof(validationData));
        }

        var arch = RegularizationFrom(options, preset) with
        {
            InputChannels = train.Channels,
            ImageHeight = train.Height,
            ImageWidth = train.Width,
            NumClasses = train.ClassCount,
        };
        // The seed decides the initial weights too, not only the training's draws: runs that differ only in seed differ from the start.
        Native.TorchRuntime.EnsureInitialized();
        TorchSharp.torch.manual_seed(options.Seed);
        using var network = new CctNetwork(arch, new ValueMixing(alpha, beta, options.AttentionScope));
        if (options.InitialWeightsPath is { } weights)
            InitialWeights.Load(network, weights);

        var normalization = options.Mean is null && options.Std is null
            ? PixelNormalization.FromStatistics(train, options.PixelScale)
            : new PixelNormalization(options.PixelScale, PerChannel(options.Mean, 0, train.Channels, "Mean"), PerChannel(options.Std, 1, train.Channels, "Std"));
        var settings = TrainingSettingsFrom(options, alpha, beta) with { Normalization = normalization };
        var progress = new Progress(options);
        var result = new CctTrainingLoop(network, settings, device).Run(train, validation, progress, cancellationToken);
        network.to(torch.CPU); // the export reads the weights on the CPU
        return CompactTransformerModelBuilder.Build(mlContext, trainData.Schema, options.FeatureColumnName, network, train.ClassNames,
            result.Normalization, result.History, options.ScoreColumnName, options.PredictedLabelColumnName, options.LabelColumnName);
    }

    private static int? Positive(int value) => value > 0 ? value : null;

    /// <summary>
    /// The loop's settings: the recipe's, then every option that is set on top (a field left null keeps the recipe's
    /// value), then the fields that only options carry.
    /// </summary>
    internal static TrainingSettings TrainingSettingsFrom(CompactTransformerOptions o, double alpha, double beta)
    {
        var r = TrainingRecipes.Get(o.Recipe).Settings;
        return r with
        {
            Epochs = o.Epochs ?? r.Epochs,
            BatchSize = o.BatchSize ?? r.BatchSize,
            LearningRate = o.LearningRate ?? r.LearningRate,
            WeightDecay = o.WeightDecay ?? r.WeightDecay,
            AdamBeta1 = o.AdamBeta1 ?? r.AdamBeta1,
            AdamBeta2 = o.AdamBeta2 ?? r.AdamBeta2,
            WarmupEpochs = o.WarmupEpochs ?? r.WarmupEpochs,
            WarmupStartLearningRate = o.WarmupStartLearningRate ?? o.MinLearningRate ?? r.WarmupStartLearningRate,
            MinLearningRate = o.MinLearningRate ?? r.MinLearningRate,
            LabelSmoothing = o.LabelSmoothing ?? r.LabelSmoothing,
            RandomCropPadding = o.RandomCropPadding ?? r.RandomCropPadding,
            HorizontalFlip = o.HorizontalFlip ?? r.HorizontalFlip,
            AugmentationPolicy = o.AugmentationPolicy ?? r.AugmentationPolicy,
            RandAugmentOperations = o.RandAugmentOperations ?? r.RandAugmentOperations,
            RandAugmentMagnitude = o.RandAugmentMagnitude ?? r.RandAugmentMagnitude,
            RandAugmentMagnitudeStd = o.RandAugmentMagnitudeStd ?? r.RandAugmentMagnitudeStd,
            RandomErasingProbability = o.RandomErasingProbability ?? r.RandomErasingProbability,
            MixupAlpha = o.MixupAlpha ?? r.MixupAlpha,
            CutMixAlpha = o.CutMixAlpha ?? r.CutMixAlpha,
            MixProbability = o.MixProbability ?? r.MixProbability,
            MixSwitchProbability = o.MixSwitchProbability ?? r.MixSwitchProbability,
            GradientClipNorm = o.GradientClipNorm ?? r.GradientClipNorm,
            Seed = o.Seed,
            Threads = o.NumberOfThreads,
            Device = o.Device,
            MixedPrecision = o.MixedPrecision,
            FlatOptimizer = o.FlatOptimizer,
            EarlyStoppingMetric = o.EarlyStoppingMetric,
            EarlyStoppingPatience = o.EarlyStoppingPatience,
            EarlyStoppingMinDelta = o.EarlyStoppingMinDelta,
            CheckpointEvery = o.CheckpointEvery,
            CheckpointFolder = o.CheckpointFolder,
            ResumeFrom = o.ResumeFrom,
            Alpha = alpha,
            Beta = beta,
            MixingSchedule = o.MixingSchedule,
            HeadLearningRateMultiplier = o.HeadLearningRateMultiplier,
            BodyLearningRateMultiplier = o.BodyLearningRateMultiplier,
            StepCallback = o.StepCallback,
            StepCallbackEvery = o.StepCallbackEvery,
        };
    }

    /// <summary>The network's architecture with the regularisation of the options, else the recipe's, else its own.</summary>
    internal static CctArchitecture RegularizationFrom(CompactTransformerOptions o, CctArchitecture architecture)
    {
        var withRecipe = TrainingRecipes.Get(o.Recipe).ApplyTo(architecture);
        return withRecipe with
        {
            Dropout = o.Dropout ?? withRecipe.Dropout,
            AttentionDropout = o.AttentionDropout ?? withRecipe.AttentionDropout,
            StochasticDepth = o.StochasticDepth ?? withRecipe.StochasticDepth,
        };
    }

    // One value per channel, or a single value for all; null means the neutral value.
    private static double[] PerChannel(float[]? values, double neutral, int channels, string field)
    {
        if (values is null)
            return Enumerable.Repeat(neutral, channels).ToArray();
        if (values.Length == 1)
            return Enumerable.Repeat((double)values[0], channels).ToArray();
        if (values.Length != channels)
            throw new ArgumentException($"CompactTransformerOptions.{field} has {values.Length} values; the images have {channels} channel(s): give one value per channel, or one for all.");
        return values.Select(v => (double)v).ToArray();
    }

    /// <summary>
    /// The schema after this trainer: the input columns plus <c>Score</c> (vector of probabilities, slot names)
    /// and <c>PredictedLabel</c> (key type with key values), as ML.NET's multiclass trainers declare them.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var label = inputSchema.FirstOrDefault(c => c.Name == options.LabelColumnName);
        if (label.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{options.LabelColumnName}' not found.");
        if (!label.IsKey)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Label column '{options.LabelColumnName}' is not a key type; convert it with mlContext.Transforms.Conversion.MapValueToKey(\"{options.LabelColumnName}\").");
        if (!inputSchema.Any(c => c.Name == options.FeatureColumnName))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Feature column '{options.FeatureColumnName}' not found.");
        var outputs = OutputColumns.Shape(options.ScoreColumnName, options.PredictedLabelColumnName);
        var names = new HashSet<string>(outputs.Select(c => c.Name));
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(outputs));
    }

    private sealed class Progress(CompactTransformerOptions options) : IProgress<EpochMetrics>
    {
        public void Report(EpochMetrics value)
        {
            options.MetricsCallback?.Invoke(value);
            options.Progress?.Report(value);
        }
    }
}
