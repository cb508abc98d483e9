using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Wraps an exported classifier graph in stock ML.NET transforms only, so that the resulting model saves
/// with <c>mlContext.Model.Save</c> and loads in any process without this assembly:
/// <code>
/// ApplyOnnxModel(Score, PredictedIndex &lt;- features)
///   -> Hash(PredictedIndex, combine)       a Vector&lt;Int64, 1&gt; becomes a scalar
///   -> ConvertType(UInt32)                 key -> plain number
///   -> MapValue(hash -> class name)        table computed here with the same Hash
///   -> MapValueToKey(PredictedLabel, keyData = class names in training-label key order)
///   -> DropColumns(temporaries)
/// </code>
/// (ML.NET offers no stock transform that takes one slot of a vector as a scalar, hence the hash.)
/// </summary>
public static class OnnxScoringPipeline
{
    private const uint DefaultHashSeed = 314489979; // ML.NET's own default

    /// <summary>
    /// Builds the scoring chain. Its output has <c>Score</c> (<c>Vector&lt;Single, K&gt;</c>, slot names from the graph)
    /// and <c>PredictedLabel</c> (a key type whose key values are <paramref name="classNames"/>, in that order).
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="inputSchema">Schema of the data the chain will see; must have the feature column.</param>
    /// <param name="onnxModel">ONNX bytes, e.g. from <see cref="CctOnnxExporter.Export"/>, whose input is named <paramref name="featureColumnName"/>.</param>
    /// <param name="featureColumnName">The <c>Vector&lt;Single&gt;</c> column of C*H*W pixels.</param>
    /// <param name="classNames">Class names in the training label's key order (class index i is key i + 1).</param>
    /// <param name="options">Column names and threading; null for the defaults.</param>
    /// <exception cref="ArgumentException">An argument is unusable; the message names it and what was expected.</exception>
    public static TransformerChain<ITransformer> Create(MLContext mlContext, DataViewSchema inputSchema, byte[] onnxModel,
        string featureColumnName, IReadOnlyList<string> classNames, OnnxScoringOptions? options = null) =>
        Create(mlContext, inputSchema, onnxModel, featureColumnName, classNames, options, out _);

    /// <summary>
    /// <see cref="Create(MLContext, DataViewSchema, byte[], string, IReadOnlyList{string}, OnnxScoringOptions?)"/>, also
    /// returning the temporary ONNX file the chain reads (<see cref="TempModelFiles"/>), for the caller to delete once it
    /// has disposed the chain. A failure leaves no file and no ONNX Runtime session behind.
    /// </summary>
    internal static TransformerChain<ITransformer> Create(MLContext mlContext, DataViewSchema inputSchema, byte[] onnxModel,
        string featureColumnName, IReadOnlyList<string> classNames, OnnxScoringOptions? options, out string modelFile)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(onnxModel);
        ArgumentNullException.ThrowIfNull(featureColumnName);
        ArgumentNullException.ThrowIfNull(classNames);
        options ??= new OnnxScoringOptions();
        if (onnxModel.Length == 0)
            throw new ArgumentException("onnxModel is empty; expected the bytes of an ONNX model.", nameof(onnxModel));
        int featureSize = FeatureSize(inputSchema, featureColumnName);
        ValidateClassNames(classNames);

        string index = options.PredictedIndexOutputName;
        string hash = Data.UnusedColumnName.For(inputSchema, index + ".hash");
        string hashNumber = Data.UnusedColumnName.For(inputSchema, index + ".hashNumber");
        string name = Data.UnusedColumnName.For(inputSchema, index + ".className");

        var lookup = HashToClassName(mlContext, index, hash, hashNumber, classNames, out uint seed);
        modelFile = TempModelFiles.Write(onnxModel);
        TransformerChain<ITransformer>? chain = null;
        try
        {
            var estimator = mlContext.Transforms.ApplyOnnxModel(new OnnxOptions
                {
                    ModelFile = modelFile,
                    InputColumns = new[] { featureColumnName },
                    OutputColumns = new[] { options.ScoreColumnName, index },
                    IntraOpNumThreads = options.IntraOpNumThreads,
                    InterOpNumThreads = options.InterOpNumThreads,
                })
                .Append(mlContext.Transforms.Conversion.Hash(HashOptions(hash, index, seed)))
                .Append(mlContext.Transforms.Conversion.ConvertType(hashNumber, hash, DataKind.UInt32))
                .Append(mlContext.Transforms.Conversion.MapValue(name, lookup, hashNumber))
                .Append(mlContext.Transforms.Conversion.MapValueToKey(options.PredictedLabelColumnName, name,
                    keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: ClassNameView(mlContext, classNames)))
                .Append(mlContext.Transforms.DropColumns(index, hash, hashNumber, name));

            chain = new TransformerChain<ITransformer>(estimator.Fit(EmptyFeatureView(mlContext, featureColumnName, featureSize)).ToArray());
            CheckScore(chain.GetOutputSchema(inputSchema), options.ScoreColumnName, classNames);
            return chain;
        }
        catch
        {
            // The ONNX Runtime session lives in the fitted transformer: release it before its file.
            chain?.Dispose();
            TempModelFiles.Delete(modelFile);
            throw;
        }
    }

    private static HashingEstimator.ColumnOptions HashOptions(string output, string input, uint seed) =>
        new(output, input, numberOfBits: 31, seed: seed, useOrderedHashing: false, maximumNumberOfInverts: 0, combine: true);

    /// <summary>
    /// Runs the same Hash + ConvertType on the indices 0..K-1 (typed exactly like the ONNX output) to learn
    /// which number each class index hashes to; another seed is tried in the unlikely case of a collision.
    /// </summary>
    private static KeyValuePair<uint, string>[] HashToClassName(MLContext ml, string index, string hash, string hashNumber,
        IReadOnlyList<string> classNames, out uint seed)
    {
        var definition = SchemaDefinition.Create(typeof(IndexRow));
        definition[0].ColumnName = index;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Int64, 1);
        var rows = Enumerable.Range(0, classNames.Count).Select(i => new IndexRow { Index = new long[] { i } }).ToArray();
        var indices = ml.Data.LoadFromEnumerable(rows, definition);

        for (seed = DefaultHashSeed; seed < DefaultHashSeed + 16; seed++)
        {
            var hashed = ml.Transforms.Conversion.Hash(HashOptions(hash, index, seed))
                .Append(ml.Transforms.Conversion.ConvertType(hashNumber, hash, DataKind.UInt32))
                .Fit(indices).Transform(indices);
            uint[] numbers = hashed.GetColumn<uint>(hashNumber).ToArray();
            if (numbers.Distinct().Count() == numbers.Length)
                return numbers.Select((n, i) => new KeyValuePair<uint, string>(n, classNames[i])).ToArray();
        }
        throw new InvalidOperationException($"Could not find a hash seed without collisions for {classNames.Count} classes.");
    }

    private static IDataView ClassNameView(MLContext ml, IReadOnlyList<string> classNames) =>
        ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassNameRow { Name = c }).ToArray());

    private static IDataView EmptyFeatureView(MLContext ml, string featureColumnName, int featureSize)
    {
        var definition = SchemaDefinition.Create(typeof(FeatureRow));
        definition[0].ColumnName = featureColumnName;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureSize);
        return ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), definition);
    }

    private static int FeatureSize(DataViewSchema schema, string featureColumnName)
    {
        var column = schema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentException(
                $"The input schema has no column '{featureColumnName}'; it has {string.Join(", ", schema.Select(c => c.Name))}.", nameof(featureColumnName));
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType, IsKnownSize: true } vector
            || vector.ItemType != NumberDataViewType.Single)
            throw new ArgumentException(
                $"Column '{featureColumnName}' is {column.Type}; expected a known-size Vector<Single> of C*H*W pixels (ExtractPixels output).",
                nameof(featureColumnName));
        return vector.Size;
    }

    private static void ValidateClassNames(IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0)
            throw new ArgumentException("classNames is empty; expected the class names in the training label's key order.", nameof(classNames));
        for (int i = 0; i < classNames.Count; i++)
            if (classNames[i] is null)
                throw new ArgumentException($"classNames[{i}] is null; expected a name.", nameof(classNames));
        var repeated = classNames.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new ArgumentException($"classNames has '{repeated.Key}' {repeated.Count()} times; expected distinct names.", nameof(classNames));
    }

    /// <summary>A name for a temporary column that the input does not already use.</summary>

    /// <summary>The graph must score exactly the given classes, and carry them as slot names if it carries any.</summary>
    private static void CheckScore(DataViewSchema output, string scoreColumn, IReadOnlyList<string> classNames)
    {
        var score = output[scoreColumn];
        if (score.Type is not VectorDataViewType { Size: var size } || size != classNames.Count)
            throw new ArgumentException(
                $"The ONNX output '{scoreColumn}' is {score.Type}; expected Vector<Single, {classNames.Count}> (one score per class name).", nameof(classNames));
        if (!score.HasSlotNames())
            return;
        VBuffer<ReadOnlyMemory<char>> slots = default;
        score.GetSlotNames(ref slots);
        string[] slotNames = slots.DenseValues().Select(s => s.ToString()).ToArray();
        if (!slotNames.SequenceEqual(classNames))
            throw new ArgumentException(
                $"The ONNX score's slot names [{string.Join(", ", slotNames)}] differ from classNames [{string.Join(", ", classNames)}]; " +
                "export with the class names in the training label's key order.", nameof(classNames));
    }

    private sealed class IndexRow
    {
        public long[] Index { get; set; } = Array.Empty<long>();
    }

    private sealed class ClassNameRow
    {
        public string Name { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
