namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// What <see cref="OnnxModelReader"/> reads from an ONNX model: its header, metadata, graph input and output
/// names, and its float32 initializers (the weights, for models written by <see cref="CctOnnxExporter"/>).
/// </summary>
public sealed class OnnxModelContents
{
    // The original's state_dict lives under its two top-level modules; the exporter's own constants do not
    // (they are named const_*, input.mean/std, mlnet.*), so these prefixes tell weights from constants.
    private static readonly string[] StateDictPrefixes = { "tokenizer.", "classifier." };

    private const int FloatDataType = 1;

    internal OnnxModelContents(string source, long irVersion, string producerName, string producerVersion,
        IReadOnlyDictionary<string, string> metadata, IReadOnlyList<string> inputNames, IReadOnlyList<string> outputNames,
        IReadOnlyDictionary<string, int> initializerDataTypes, IReadOnlyDictionary<string, NamedTensorData> initializers)
    {
        Source = source;
        IrVersion = irVersion;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        Metadata = metadata;
        InputNames = inputNames;
        OutputNames = outputNames;
        InitializerDataTypes = initializerDataTypes;
        Initializers = initializers;
    }

    /// <summary>What was read (a file name or description), as used in error messages.</summary>
    public string Source { get; }

    /// <summary>The ONNX IR version (<c>ir_version</c>).</summary>
    public long IrVersion { get; }

    /// <summary>The <c>producer_name</c>; <c>Microsoft.ML.CompactTransformer</c> for models this library exported.</summary>
    public string ProducerName { get; }

    /// <summary>The <c>producer_version</c>.</summary>
    public string ProducerVersion { get; }

    /// <summary>True when this library exported the model (by <see cref="ProducerName"/>).</summary>
    public bool IsCompactTransformerModel => ProducerName == OnnxModelSerializer.ProducerName;

    /// <summary>The <c>metadata_props</c>, as written with <see cref="OnnxExportSettings.Metadata"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Names of the graph inputs, in order (initializers listed as inputs by old exporters included).</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Names of the graph outputs, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The ONNX <c>TensorProto.DataType</c> code of every initializer (1 = float32, 7 = int64, 8 = string).</summary>
    public IReadOnlyDictionary<string, int> InitializerDataTypes { get; }

    /// <summary>The float32 initializers by name; the other types are listed only in <see cref="InitializerDataTypes"/>.</summary>
    public IReadOnlyDictionary<string, NamedTensorData> Initializers { get; }

    /// <summary>The float32 initializer <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The model has no initializer of that name.</exception>
    /// <exception cref="InvalidDataException">The initializer exists but is not float32.</exception>
    public NamedTensorData GetFloat(string name)
    {
        if (Initializers.TryGetValue(name, out var tensor))
            return tensor;
        if (InitializerDataTypes.TryGetValue(name, out int type))
            throw NotFloat(name, type);
        throw new KeyNotFoundException($"{Source} has no initializer '{name}'.");
    }

    /// <summary>
    /// The network weights under their original state_dict keys: every initializer whose name starts with
    /// <c>tokenizer.</c> or <c>classifier.</c> (the exporter's own constants never do). A fresh dictionary; the
    /// arrays are shared with <see cref="Initializers"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A weight is stored with a type other than float32.</exception>
    public Dictionary<string, NamedTensorData> StateDict()
    {
        var result = new Dictionary<string, NamedTensorData>(StringComparer.Ordinal);
        foreach (var (name, type) in InitializerDataTypes)
        {
            if (!StateDictPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                continue;
            if (type != FloatDataType)
                throw NotFloat(name, type);
            result.Add(name, Initializers[name]);
        }
        return result;
    }

    private InvalidDataException NotFloat(string name, int type) =>
        new($"{Source}: initializer '{name}' has ONNX data type {type} ({OnnxModelReader.DataTypeName(type)}); expected float32 (1).");
}
