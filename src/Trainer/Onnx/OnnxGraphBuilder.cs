using System.Globalization;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Collects the nodes, initializers, inputs and outputs of one ONNX graph, with one helper per
/// operator the exporter uses. Every helper returns the name of the value it produces, so network
/// code reads like the forward pass it mirrors. Names are made unique from <see cref="Scope"/>.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Domain of the ONNX-ML operators (LabelEncoder).</summary>
    public const string MlDomain = "ai.onnx.ml";

    private readonly List<OnnxNode> _nodes = new();
    private readonly List<OnnxInitializer> _initializers = new();
    private readonly List<OnnxValueInfo> _inputs = new();
    private readonly List<OnnxValueInfo> _outputs = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<float, string> _floatScalars = new();
    private readonly Dictionary<string, string> _int64Constants = new(StringComparer.Ordinal);

    public IReadOnlyList<OnnxNode> Nodes => _nodes;
    public IReadOnlyList<OnnxInitializer> Initializers => _initializers;
    public IReadOnlyList<OnnxValueInfo> Inputs => _inputs;
    public IReadOnlyList<OnnxValueInfo> Outputs => _outputs;

    /// <summary>Prefix of generated names, e.g. <c>classifier.blocks.0.self_attn</c>; mirrors the state-dict path.</summary>
    public string Scope { get; set; } = "";

    /// <summary>True when the ONNX-ML domain is used and must be imported.</summary>
    public bool UsesMlDomain => _nodes.Any(n => n.Domain == MlDomain);

    public string AddInput(OnnxValueInfo info)
    {
        Claim(info.Name);
        _inputs.Add(info);
        return info.Name;
    }

    /// <summary>Declares a graph output; the value of that name must exist (rename with <see cref="Identity"/> first if needed).</summary>
    public void AddOutput(OnnxValueInfo info) => _outputs.Add(info);

    public string AddFloats(string name, float[] data, params long[] dims)
    {
        CheckCount(name, data.Length, dims);
        Claim(name);
        _initializers.Add(new OnnxInitializer(name, OnnxDataType.Float, dims) { Floats = data });
        return name;
    }

    public string AddStrings(string name, string[] data, params long[] dims)
    {
        CheckCount(name, data.Length, dims);
        Claim(name);
        _initializers.Add(new OnnxInitializer(name, OnnxDataType.String, dims) { Strings = data });
        return name;
    }

    /// <summary>A rank-0 float constant, shared by every use of the same value.</summary>
    public string Scalar(float value)
    {
        if (_floatScalars.TryGetValue(value, out var name))
            return name;
        name = Unique("const_" + value.ToString("R", CultureInfo.InvariantCulture));
        _initializers.Add(new OnnxInitializer(name, OnnxDataType.Float, Array.Empty<long>()) { Floats = new[] { value } });
        _floatScalars[value] = name;
        return name;
    }

    /// <summary>A 1-D int64 constant (shapes, axes, indices), shared by every use of the same values.</summary>
    public string Int64s(params long[] values) => Int64Constant(values, new long[] { values.Length });

    /// <summary>A rank-0 int64 constant (a scalar Gather index, which drops the gathered axis).</summary>
    public string Int64Scalar(long value) => Int64Constant(new[] { value }, Array.Empty<long>());

    private string Int64Constant(long[] values, long[] dims)
    {
        string key = $"{dims.Length}:{string.Join(",", values)}";
        if (_int64Constants.TryGetValue(key, out var name))
            return name;
        name = Unique(dims.Length == 0 ? $"const_i64_{values[0]}" : $"const_i64[{string.Join(",", values)}]");
        _initializers.Add(new OnnxInitializer(name, OnnxDataType.Int64, dims) { Int64s = values });
        _int64Constants[key] = name;
        return name;
    }

    /// <summary>Adds a single-output node and returns its output name (<paramref name="output"/> or a generated one).</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute>? attributes = null,
        string? output = null, string domain = "", string? nodeName = null)
    {
        string name = nodeName is null ? Unique(Qualify(opType)) : Claimed(nodeName);
        string result = output is null ? Unique(name + "_out") : Claimed(output);
        _nodes.Add(new OnnxNode(name, opType, inputs, new[] { result }, attributes ?? Array.Empty<OnnxAttribute>(), domain));
        return result;
    }

    // ---- operators (ai.onnx unless noted) ----

    public string Add(string a, string b) => Node("Add", new[] { a, b });
    public string Sub(string a, string b) => Node("Sub", new[] { a, b });
    public string Mul(string a, string b) => Node("Mul", new[] { a, b });
    public string Div(string a, string b) => Node("Div", new[] { a, b });
    public string MatMul(string a, string b) => Node("MatMul", new[] { a, b });
    public string Relu(string x) => Node("Relu", new[] { x });
    public string Erf(string x) => Node("Erf", new[] { x });
    public string Shape(string x) => Node("Shape", new[] { x });
    public string Identity(string x, string output) => Node("Identity", new[] { x }, output: output);

    public string Softmax(string x, long axis) => Node("Softmax", new[] { x }, new[] { OnnxAttribute.Int("axis", axis) });

    public string Transpose(string x, params long[] perm) => Node("Transpose", new[] { x }, new[] { OnnxAttribute.Ints("perm", perm) });

    /// <summary>Reshape; a 0 in <paramref name="shape"/> copies that input dimension, -1 is inferred.</summary>
    public string Reshape(string x, params long[] shape) => Node("Reshape", new[] { x, Int64s(shape) });

    public string Reshape(string x, long[] shape, string output) => Node("Reshape", new[] { x, Int64s(shape) }, output: output);

    public string Concat(long axis, params string[] inputs) => Node("Concat", inputs, new[] { OnnxAttribute.Int("axis", axis) });

    public string Expand(string x, string shape) => Node("Expand", new[] { x, shape });

    /// <summary>Gather along <paramref name="axis"/>; a rank-0 index drops the axis, a 1-D one keeps it.</summary>
    public string Gather(string x, string indices, long axis) => Node("Gather", new[] { x, indices }, new[] { OnnxAttribute.Int("axis", axis) });

    public string LayerNormalization(string x, string scale, string bias, float epsilon) =>
        Node("LayerNormalization", new[] { x, scale, bias },
            new[] { OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", epsilon) });

    public string Conv(string x, string weight, string? bias, long kernel, long stride, long padding) =>
        Node("Conv", bias is null ? new[] { x, weight } : new[] { x, weight, bias }, new[]
        {
            OnnxAttribute.Ints("kernel_shape", kernel, kernel),
            OnnxAttribute.Ints("strides", stride, stride),
            OnnxAttribute.Ints("pads", padding, padding, padding, padding),
            OnnxAttribute.Ints("dilations", 1, 1),
            OnnxAttribute.Int("group", 1),
        });

    public string MaxPool(string x, long kernel, long stride, long padding) =>
        Node("MaxPool", new[] { x }, new[]
        {
            OnnxAttribute.Ints("kernel_shape", kernel, kernel),
            OnnxAttribute.Ints("strides", stride, stride),
            OnnxAttribute.Ints("pads", padding, padding, padding, padding),
        });

    /// <summary>Index of the first maximum along <paramref name="axis"/>, as int64, axis kept with size 1.</summary>
    public string ArgMax(string x, long axis, string? output = null) =>
        Node("ArgMax", new[] { x }, new[] { OnnxAttribute.Int("axis", axis), OnnxAttribute.Int("keepdims", 1) }, output: output);

    // ---- naming ----

    private string Qualify(string name) => Scope.Length == 0 ? name : Scope + "/" + name;

    /// <summary>Returns <paramref name="stem"/>, or <c>stem_2</c>, <c>stem_3</c>... whichever is still free, and claims it.</summary>
    public string Unique(string stem)
    {
        string name = stem;
        for (int i = 2; !_names.Add(name); i++)
            name = stem + "_" + i.ToString(CultureInfo.InvariantCulture);
        return name;
    }

    private string Claimed(string name)
    {
        Claim(name);
        return name;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
            throw new ArgumentException($"The ONNX graph already has a value or node named '{name}'; names must be unique.", nameof(name));
    }

    private static void CheckCount(string name, int count, long[] dims)
    {
        long expected = 1;
        foreach (long d in dims)
            expected *= d;
        if (expected != count)
            throw new ArgumentException($"Initializer '{name}' has {count} values; its shape [{string.Join(", ", dims)}] needs {expected}.");
    }
}
