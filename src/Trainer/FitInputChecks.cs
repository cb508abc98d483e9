using System.Globalization;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// What <see cref="CompactTransformerEstimator"/> refuses before it trains: options that cannot train, columns that are
/// missing or of the wrong type, a validation set that does not match the training set, and data sets that cannot
/// teach a classifier. Every message names the option, argument, column or value and says what was expected.
/// </summary>
internal static class FitInputChecks
{
    private const string TrainData = "trainData";
    private const string ValidationData = "validationData";

    /// <summary>Checks the options a user sets most and whose bad values would otherwise surface only mid-training.</summary>
    public static void CheckOptions(CompactTransformerOptions options)
    {
        Require(options.Epochs is null or >= 1, nameof(options.Epochs), options.Epochs, "at least 1, or null for the recipe's");
        Require(options.BatchSize is null or >= 1, nameof(options.BatchSize), options.BatchSize, "at least 1, or null for the recipe's");
        Require(options.LearningRate is null || (options.LearningRate > 0 && double.IsFinite(options.LearningRate.Value)),
            nameof(options.LearningRate), options.LearningRate, "a positive finite number, or null for the recipe's");
        Require(options.ImageHeight >= 0, nameof(options.ImageHeight), options.ImageHeight, "positive, or 0 to infer it");
        Require(options.ImageWidth >= 0, nameof(options.ImageWidth), options.ImageWidth, "positive, or 0 to infer it");
        Require(options.Channels >= 0, nameof(options.Channels), options.Channels, "the channel count (1 grayscale, 3 RGB), or 0 to infer it");
        if (options.CustomArchitecture is null && (options.Architecture is null || !CctPresets.Contains(options.Architecture)))
            throw new ArgumentException(
                $"CompactTransformerOptions.Architecture is {Show(options.Architecture)}, which is no preset; expected one of " +
                $"{string.Join(", ", CctPresets.Names)} (or set CustomArchitecture).", nameof(options));
        if (options.Recipe is not null && !Training.TrainingRecipes.Names.Contains(options.Recipe))
            throw new ArgumentException(
                $"CompactTransformerOptions.Recipe is '{options.Recipe}', which is no recipe; expected one of " +
                $"{string.Join(", ", Training.TrainingRecipes.Names)}, or null for the default.", nameof(options));
    }

    /// <summary>The label and feature columns exist and have types training can read.</summary>
    /// <param name="schema">The schema of <paramref name="argument"/>.</param>
    /// <param name="options">Names the columns.</param>
    /// <param name="argument"><c>trainData</c> or <c>validationData</c>.</param>
    public static void CheckColumns(DataViewSchema schema, CompactTransformerOptions options, string argument)
    {
        string labelName = options.LabelColumnName, featureName = options.FeatureColumnName;
        var label = schema.GetColumnOrNull(labelName)
            ?? throw new ArgumentOutOfRangeException(argument,
                $"Label column '{labelName}' not found in {argument}; it has columns {ColumnList(schema)}.");
        if (label.Type is not KeyDataViewType key)
            throw new ArgumentOutOfRangeException(argument,
                $"Label column '{labelName}' of {argument} has type {label.Type}; expected a key type. " +
                $"Convert it with mlContext.Transforms.Conversion.MapValueToKey(\"{labelName}\").");
        var feature = schema.GetColumnOrNull(featureName)
            ?? throw new ArgumentOutOfRangeException(argument,
                $"Feature column '{featureName}' not found in {argument}; it has columns {ColumnList(schema)}.");
        if (FeatureColumnKinds.Of(feature.Type) is null)
            throw new ArgumentOutOfRangeException(argument, feature.Type is VectorDataViewType { IsKnownSize: false, ItemType: var item } && item == NumberDataViewType.Single
                // A vector of unknown size can hold images of different sizes; the network needs one.
                ? $"Feature column '{featureName}' of {argument} is a variable-size {feature.Type}, so its rows may be images of different sizes; " +
                  "the network takes one fixed size. Bring the images to one size with mlContext.Transforms.ResizeImages before ExtractPixels " +
                  "(which then gives a known-size vector of C*H*W values), or give the images themselves (LoadImages), which are resized to " +
                  "CompactTransformerOptions.ImageHeight x ImageWidth."
                : $"Feature column '{featureName}' of {argument} has type {feature.Type}; expected {FeatureColumnKinds.Accepted}.");
        if (key.Count == 1)
        {
            var (_, classNames) = KeyLabelColumn.Resolve(schema, labelName);
            throw new ArgumentException(
                $"Label column '{labelName}' of {argument} has a single class ('{classNames[0]}'); training a classifier needs at least 2.", argument);
        }
    }

    /// <summary>
    /// The validation feature column holds the same kind of images as the training one: the same pixel-vector type
    /// (length included), or images of any size when training reads images (both are resized to the model's size).
    /// </summary>
    public static void CheckValidationColumns(DataViewSchema train, DataViewSchema validation, CompactTransformerOptions options)
    {
        CheckColumns(validation, options, ValidationData);
        string name = options.FeatureColumnName;
        DataViewType trainType = train[name].Type, validationType = validation[name].Type;
        var trainKind = FeatureColumnKinds.Of(trainType);
        var validationKind = FeatureColumnKinds.Of(validationType);
        bool sameImages = trainKind == validationKind && (trainKind is FeatureColumnKind.Image or FeatureColumnKind.EncodedImage || trainType.Equals(validationType));
        if (!sameImages)
            throw new ArgumentOutOfRangeException(ValidationData,
                $"Feature column '{name}' of validationData has type {validationType}; trainData's has type {trainType}. " +
                "Both must hold the same kind of images (pixel vectors of the same length): prepare them with the same transforms.");
    }

    /// <summary>The training set read from <c>trainData</c> can teach a classifier: rows, and at least two classes among them.</summary>
    public static void CheckTrainingSet(ImageDataset train, string labelColumnName)
    {
        if (train.Count == 0)
            throw new ArgumentException("trainData has no rows; training needs labelled images.", TrainData);
        ReadOnlySpan<int> labels = train.Labels;
        int first = labels[0];
        foreach (int label in labels)
        {
            if (label != first)
                return;
        }
        throw new ArgumentException(
            $"Label column '{labelColumnName}' of trainData holds a single class ('{train.ClassNames[first]}') in all its {train.Count} rows; " +
            "training a classifier needs at least 2.", TrainData);
    }

    /// <summary>A validation set that was given has rows: an empty one would silently train without validation.</summary>
    public static void CheckValidationSet(ImageDataset validation)
    {
        if (validation.Count == 0)
            throw new ArgumentException(
                "validationData has no rows; pass null to train without a validation set.", ValidationData);
    }

    private static string ColumnList(DataViewSchema schema)
    {
        var visible = schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'").ToArray();
        return visible.Length == 0 ? "(none)" : string.Join(", ", visible);
    }

    private static void Require(bool ok, string option, object? value, string expected)
    {
        if (!ok)
            throw new ArgumentOutOfRangeException("options",
                $"CompactTransformerOptions.{option} is {Show(value)}; expected {expected}.");
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
