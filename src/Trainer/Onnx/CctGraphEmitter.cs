using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Writes the CCT / CVT / ViT-Lite forward pass (eval mode) into an <see cref="OnnxGraphBuilder"/>,
/// one ONNX op per PyTorch op, in the order of the original's forward. Weights become initializers
/// under their state-dict keys, untransposed (Linear is emitted as Transpose + MatMul + Add, which
/// ORT constant-folds), so the graph can be read back as a state dict.
/// Tensors are batch-first throughout; reshapes copy the batch dimension (0) so the same body
/// serves a fixed batch of one and a symbolic batch axis.
/// </summary>
internal sealed class CctGraphEmitter
{
    private const float LayerNormEpsilon = 1e-5f;

    private readonly OnnxGraphBuilder _g;
    private readonly CctArchitecture _arch;
    private readonly StateDictReader _weights;
    private readonly ValueMixing _mixing;
    private readonly OnnxExportSettings _settings;
    private readonly int _d;

    public CctGraphEmitter(OnnxGraphBuilder graph, CctArchitecture arch, StateDictReader weights, ValueMixing mixing, OnnxExportSettings settings)
    {
        _g = graph;
        _arch = arch;
        _weights = weights;
        _mixing = mixing;
        _settings = settings;
        _d = arch.EmbeddingDim;
    }

    public void Emit()
    {
        string x = Input();
        x = Tokenizer(x);
        x = Embeddings(x);
        for (int i = 0; i < _arch.NumLayers; i++)
            x = EncoderLayer(x, i);
        _g.Scope = "classifier.norm";
        x = LayerNorm(x, "classifier.norm");
        x = Pool(x);
        _g.Scope = "classifier.fc";
        string logits = Linear(x, "classifier.fc", _arch.NumClasses, _d, bias: true);
        Outputs(logits);
    }

    /// <summary>Raw pixels (flat C*H*W, ExtractPixels order) to a normalised NCHW image.</summary>
    private string Input()
    {
        _g.Scope = "input";
        long flat = (long)_arch.InputChannels * _arch.ImageHeight * _arch.ImageWidth;
        string x = _g.AddInput(Value(_settings.InputName, flat));
        x = _g.Reshape(x, -1, _arch.InputChannels, _arch.ImageHeight, _arch.ImageWidth);
        if (_settings.PixelScale != 1f)
            x = _g.Mul(x, _g.Scalar(_settings.PixelScale));
        if (_settings.Mean is { } mean && mean.Any(m => m != 0f))
            x = _g.Sub(x, _g.AddFloats("input.mean", mean.ToArray(), _arch.InputChannels, 1, 1));
        if (_settings.Std is { } std && std.Any(s => s != 1f))
            x = _g.Div(x, _g.AddFloats("input.std", std.ToArray(), _arch.InputChannels, 1, 1));
        return x;
    }

    /// <summary>Conv blocks (CCT: conv, ReLU, max-pool; patches: one biased conv), then (B, C, H, W) to (B, H*W, C).</summary>
    private string Tokenizer(string x)
    {
        bool patch = _arch.Tokenizer == TokenizerKind.Patch;
        int layers = patch ? 1 : _arch.NumConvLayers;
        int k = _arch.KernelSize;
        for (int i = 0; i < layers; i++)
        {
            string key = $"tokenizer.conv_layers.{i}.0";
            _g.Scope = key;
            int inChannels = i == 0 ? _arch.InputChannels : _arch.ConvHiddenChannels;
            int outChannels = i == layers - 1 ? _d : _arch.ConvHiddenChannels;
            string weight = Initializer(key + ".weight", outChannels, inChannels, k, k);
            string? bias = patch ? Initializer(key + ".bias", outChannels) : null;
            x = _g.Conv(x, weight, bias, k, _arch.ConvStride, _arch.ConvPadding);
            if (!patch)
            {
                x = _g.Relu(x);
                x = _g.MaxPool(x, kernel: 3, stride: 2, padding: 1);
            }
        }
        _g.Scope = "tokenizer";
        x = _g.Reshape(x, 0, _d, -1);    // flatten(2, 3)
        return _g.Transpose(x, 0, 2, 1); // transpose(-2, -1): tokens in row-major (h, w) order
    }

    /// <summary>Class token (ViT-Lite) in front, then the positional embedding; dropout is identity here.</summary>
    private string Embeddings(string x)
    {
        _g.Scope = "classifier";
        if (_arch.Pooling == PoolingKind.ClassToken)
        {
            string classEmb = Initializer("classifier.class_emb", 1, 1, _d);
            string batch = _g.Gather(_g.Shape(x), _g.Int64s(0), axis: 0);
            string shape = _g.Concat(0, batch, _g.Int64s(1, _d));
            x = _g.Concat(1, _g.Expand(classEmb, shape), x);
        }

        long[] peShape = { 1, _arch.SequenceLength, _d };
        switch (_arch.PositionalEmbedding)
        {
            case PositionalEmbeddingKind.Learnable:
                return _g.Add(x, Initializer("classifier.positional_emb", peShape));
            case PositionalEmbeddingKind.Sine:
                // Stored in the state dict by the original; regenerated when a caller left it out.
                string pe = _weights.TryGet("classifier.positional_emb", peShape, out var stored)
                    ? _g.AddFloats("classifier.positional_emb", stored.Data, peShape)
                    : _g.AddFloats("classifier.positional_emb", SinusoidalEmbedding.Create(_arch.SequenceLength, _d), peShape);
                return _g.Add(x, pe);
            default:
                return x;
        }
    }

    private string EncoderLayer(string x, int index)
    {
        string key = $"classifier.blocks.{index}";
        _g.Scope = key;
        string attention = SelfAttention(LayerNorm(x, key + ".pre_norm"), key + ".self_attn");
        _g.Scope = key;
        x = _g.Add(x, attention);
        if (_arch.NormPlacement == NormPlacement.Original)
        {
            x = LayerNorm(x, key + ".norm1"); // the residual stream itself is normalised
            return _g.Add(x, Mlp(x, key));
        }
        return _g.Add(x, Mlp(LayerNorm(x, key + ".norm1"), key));
    }

    private string SelfAttention(string x, string key)
    {
        _g.Scope = key;
        int heads = _arch.NumHeads;
        int headDim = _d / heads;
        string qkv = Linear(x, key + ".qkv", 3 * _d, _d, bias: false);
        qkv = _g.Reshape(qkv, 0, 0, 3, heads, headDim);
        qkv = _g.Transpose(qkv, 2, 0, 3, 1, 4); // (3, B, H, N, dh)
        string q = _g.Gather(qkv, _g.Int64Scalar(0), axis: 0);
        string k = _g.Gather(qkv, _g.Int64Scalar(1), axis: 0);
        string v = _g.Gather(qkv, _g.Int64Scalar(2), axis: 0);

        string scores = _g.MatMul(q, _g.Transpose(k, 0, 1, 3, 2));
        scores = _g.Mul(scores, _g.Scalar((float)Math.Pow(headDim, -0.5)));
        string attn = _g.Softmax(scores, -1);
        if (_mixing.AppliesTo(AttentionScope.SelfAttention))
            v = MixValues(v, tokenAxis: 2);

        string y = _g.MatMul(attn, v);
        y = _g.Transpose(y, 0, 2, 1, 3);
        y = _g.Reshape(y, 0, 0, _d);
        return Linear(y, key + ".proj", _d, _d, bias: true);
    }

    /// <summary>The variant's value transform <c>beta * V + alpha * softmax(V over tokens)</c>; terms with a zero weight are left out.</summary>
    private string MixValues(string v, int tokenAxis)
    {
        float alpha = (float)_mixing.Alpha;
        float beta = (float)_mixing.Beta;
        string? plain = beta == 0f ? null : beta == 1f ? v : _g.Mul(v, _g.Scalar(beta));
        string? softmaxed = null;
        if (alpha != 0f)
        {
            softmaxed = _g.Softmax(v, tokenAxis);
            if (alpha != 1f)
                softmaxed = _g.Mul(softmaxed, _g.Scalar(alpha));
        }
        return (plain, softmaxed) switch
        {
            ({ } p, { } s) => _g.Add(p, s),
            ({ } p, null) => p,
            (null, { } s) => s,
            _ => _g.Mul(v, _g.Scalar(0f)), // alpha = beta = 0: the values vanish, as the formula says
        };
    }

    private string Mlp(string x, string key)
    {
        _g.Scope = key;
        string h = Linear(x, key + ".linear1", _arch.MlpHiddenDim, _d, bias: true);
        _g.Scope = key;
        h = Gelu(h);
        return Linear(h, key + ".linear2", _d, _arch.MlpHiddenDim, bias: true);
    }

    /// <summary>Exact GELU as PyTorch computes it: <c>x * 0.5 * (1 + erf(x / sqrt 2))</c> (opset 17 has no Gelu op).</summary>
    private string Gelu(string x)
    {
        string erf = _g.Erf(_g.Mul(x, _g.Scalar((float)(1.0 / Math.Sqrt(2.0)))));
        return _g.Mul(_g.Mul(x, _g.Scalar(0.5f)), _g.Add(erf, _g.Scalar(1f)));
    }

    /// <summary>Sequence pooling (softmax-over-tokens weights, weighted sum) or the class token.</summary>
    private string Pool(string x)
    {
        if (_arch.Pooling == PoolingKind.ClassToken)
        {
            _g.Scope = "classifier";
            return _g.Gather(x, _g.Int64Scalar(0), axis: 1); // x[:, 0]
        }

        _g.Scope = "classifier.attention_pool";
        string w = Linear(x, "classifier.attention_pool", 1, _d, bias: true); // (B, N, 1)
        w = _g.Softmax(w, 1);
        w = _g.Transpose(w, 0, 2, 1); // (B, 1, N)
        string values = _mixing.AppliesTo(AttentionScope.Pooling) ? MixValues(x, tokenAxis: 1) : x;
        string pooled = _g.MatMul(w, values); // (B, 1, d)
        return _g.Reshape(pooled, 0, _d);     // squeeze(-2)
    }

    private void Outputs(string logits)
    {
        _g.Scope = "output";
        int classes = _arch.NumClasses;
        string score = _g.Softmax(logits, -1);
        Output(score, _settings.ScoreOutputName, classes, OnnxDataType.Float);
        if (_settings.PredictedIndexOutputName is { } indexName)
            Output(_g.ArgMax(score, -1), indexName, 1, OnnxDataType.Int64);
        if (_settings.LogitsOutputName is { } logitsName)
            Output(logits, logitsName, classes, OnnxDataType.Float);
        if (_settings.ClassNames is { } names)
            SlotNames(names);
    }

    /// <summary>
    /// Class names as the score's slot names, the way ML.NET's own ONNX export records them: a LabelEncoder
    /// node named <c>mlnet.{Score}.SlotNames</c> whose <c>keys_strings</c> are the names. Its output is a graph
    /// output named <c>mlnet.{Score}.unusedOutput</c> (so ORT keeps the node), which ML.NET skips.
    /// </summary>
    private void SlotNames(IReadOnlyList<string> names)
    {
        string column = _settings.ScoreOutputName;
        string nodeName = $"mlnet.{column}.SlotNames";
        string output = $"mlnet.{column}.unusedOutput";
        string input = _g.AddStrings($"mlnet.{column}.unusedInput", new[] { "" }, 1, 1);
        _g.Node("LabelEncoder", new[] { input }, new[]
        {
            OnnxAttribute.Strings("keys_strings", names),
            OnnxAttribute.Ints("values_int64s", Enumerable.Range(0, names.Count).Select(i => (long)i).ToArray()),
            OnnxAttribute.Int("default_int64", -1),
        }, output: output, domain: OnnxGraphBuilder.MlDomain, nodeName: nodeName);
        _g.AddOutput(new OnnxValueInfo(output, OnnxDataType.Int64, new long[] { 1, 1 }));
    }

    // ---- building blocks ----

    /// <summary>PyTorch Linear: <c>x @ W^T + b</c> with W (out, in) kept as stored.</summary>
    private string Linear(string x, string key, int outFeatures, int inFeatures, bool bias)
    {
        string weight = Initializer(key + ".weight", outFeatures, inFeatures);
        string y = _g.MatMul(x, _g.Transpose(weight, 1, 0));
        return bias ? _g.Add(y, Initializer(key + ".bias", outFeatures)) : y;
    }

    private string LayerNorm(string x, string key) =>
        _g.LayerNormalization(x, Initializer(key + ".weight", _d), Initializer(key + ".bias", _d), LayerNormEpsilon);

    private string Initializer(string key, params long[] shape) => _g.AddFloats(key, _weights.Get(key, shape).Data, shape);

    /// <summary>A graph output of <paramref name="size"/> values per image: <c>[size]</c>, or <c>[batch, size]</c> with a batch axis.</summary>
    private void Output(string value, string name, long size, OnnxDataType type)
    {
        if (_settings.BatchAxis)
            _g.Identity(value, name);
        else
            _g.Reshape(value, new[] { size }, name); // drop the batch of one: ML.NET wants Vector<T, size>
        _g.AddOutput(Value(name, size, type));
    }

    private OnnxValueInfo Value(string name, long size, OnnxDataType type = OnnxDataType.Float) =>
        _settings.BatchAxis
            ? new OnnxValueInfo(name, type, new long[] { -1, size }) { SymbolicDims = new[] { "batch", null } }
            : new OnnxValueInfo(name, type, new[] { size });
}
