using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Turns a trained network into a <see cref="CompactTransformerModel"/>: exports it to ONNX (normalisation folded in)
/// and puts the stock transforms in front that bring the feature column to C*H*W float pixels.
/// </summary>
internal static class CompactTransformerModelBuilder
{
    /// <param name="mlContext">Context for the stock transforms.</param>
    /// <param name="inputSchema">Schema of the data the model will score (the training data's).</param>
    /// <param name="featureColumnName">The feature column in <paramref name="inputSchema"/>.</param>
    /// <param name="network">The trained network; its alpha/beta/scope at this moment are exported.</param>
    /// <param name="classNames">Class names in key order.</param>
    /// <param name="normalization">Pixel normalisation used in training.</param>
    /// <param name="history">Learning curves to keep with the model.</param>
    /// <param name="scoreColumnName">Output column of probabilities.</param>
    /// <param name="predictedLabelColumnName">Output key column.</param>
    /// <param name="labelColumnName">The training label in <paramref name="inputSchema"/>, whose key-value type PredictedLabel takes; null keeps text.</param>
    public static CompactTransformerModel Build(MLContext mlContext, DataViewSchema inputSchema, string featureColumnName, CctNetwork network,
        IReadOnlyList<string> classNames, PixelNormalization normalization, TrainingHistory history,
        string scoreColumnName = DefaultColumns.Score, string predictedLabelColumnName = DefaultColumns.PredictedLabel,
        string? labelColumnName = null)
    {
        var arch = network.Architecture;
        var feature = inputSchema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentException($"The data has no feature column '{featureColumnName}'.", nameof(featureColumnName));
        var kind = FeatureColumnKinds.Of(feature.Type)
            ?? throw new ArgumentException($"The feature column '{featureColumnName}' has type {feature.Type}; expected {FeatureColumnKinds.Accepted}.");

        var temporaries = new List<string>();
        string Temporary(string suffix) => UnusedColumnName.For(inputSchema, featureColumnName + suffix, temporaries);

        // Stock preparation: whatever the column holds becomes a Vector<Single> of C*H*W pixels.
        IEstimator<ITransformer>? preparation = null;
        string pixels = featureColumnName;
        switch (kind)
        {
            case FeatureColumnKind.BytePixels:
                pixels = Temporary(".pixels");
                preparation = mlContext.Transforms.Conversion.ConvertType(pixels, featureColumnName, DataKind.Single);
                break;
            case FeatureColumnKind.EncodedImage:
                pixels = Temporary(".pixels");
                preparation = EncodedImageDecoding.Estimator(mlContext, pixels, featureColumnName, arch.InputChannels, arch.ImageHeight, arch.ImageWidth);
                break;
            case FeatureColumnKind.Image:
                string resized = Temporary(".resized");
                // Fill: the same nearest-neighbour stretch the training reader applies.
                preparation = mlContext.Transforms.ResizeImages(resized, arch.ImageWidth, arch.ImageHeight, featureColumnName, ImageResizingEstimator.ResizingKind.Fill);
                string colour = resized;
                if (arch.InputChannels == 1)
                {
                    colour = Temporary(".gray");
                    preparation = preparation.Append(mlContext.Transforms.ConvertToGrayscale(colour, resized));
                }
                pixels = Temporary(".pixels");
                var colours = arch.InputChannels == 1 ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb;
                preparation = preparation.Append(mlContext.Transforms.ExtractPixels(pixels, colour, colours, interleavePixelColors: false));
                break;
        }

        var onnx = CctNetworkSnapshot.ExportOnnx(network, new OnnxExportSettings
        {
            InputName = pixels,
            ScoreOutputName = scoreColumnName,
            ClassNames = classNames,
            PixelScale = (float)normalization.Scale,
            Mean = normalization.Mean.Select(m => (float)m).ToArray(),
            Std = normalization.Std.Select(s => (float)s).ToArray(),
            Metadata = ModelMetadata.Write(arch, classNames, normalization, network.Mixing, history),
        });

        var stages = new List<ITransformer>();
        var schema = inputSchema;
        if (preparation is not null)
        {
            var prepared = preparation.Fit(EmptyView(inputSchema));
            stages.AddRange(prepared);
            schema = prepared.GetOutputSchema(inputSchema);
        }
        var scoring = OnnxScoringPipeline.Create(mlContext, schema, onnx, pixels, classNames, new OnnxScoringOptions
        {
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
        }, out string modelFile);
        stages.AddRange(scoring);
        try
        {
            var scored = scoring.GetOutputSchema(schema);
            if (temporaries.Count > 0)
            {
                var drop = mlContext.Transforms.DropColumns(temporaries.ToArray()).Fit(EmptyView(scored));
                stages.Add(drop);
                scored = drop.GetOutputSchema(scored);
            }
            if (labelColumnName is not null)
                stages.AddRange(TypedKeyValues.Stages(mlContext, inputSchema, labelColumnName, scored, predictedLabelColumnName));
        }
        catch
        {
            // Nothing owns the session and its file yet.
            scoring.Dispose();
            TempModelFiles.Delete(modelFile);
            throw;
        }

        string? notSavable = kind == FeatureColumnKind.EncodedImage
            ? $"The model reads encoded image bytes from '{featureColumnName}', and ML.NET 5.0.1 has no stock transform that decodes bytes, " +
              "so it cannot be saved as stock transforms. Load the images with mlContext.Transforms.LoadImages (from their paths) " +
              "before the trainer instead, or save the network alone with SaveOnnx."
            : null;
        return new CompactTransformerModel(new TransformerChain<ITransformer>(stages.ToArray()), modelFile, onnx, arch, classNames.ToArray(),
            normalization, network.Mixing, history, notSavable);
    }

    // The stock transforms here learn nothing from rows: fitting them on an empty view of the schema is enough.
    private static IDataView EmptyView(DataViewSchema schema) => new EmptyDataView(schema);
}
