using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// A trained Compact Transformer: an ordinary ML.NET transformer made only of stock transforms around an ONNX
/// export of the network (image preparation, <c>ApplyOnnxModel</c>, label mapping). It saves with
/// <c>mlContext.Model.Save</c> and loads in any process without this library; inference needs no libtorch.
/// It also carries what training knew: architecture, classes, normalisation, attention weights and history.
/// </summary>
/// <remarks>
/// <para>Transform may be called from several threads at once, and each thread may have its own PredictionEngine; the
/// results equal those of a single thread. A PredictionEngine is not thread-safe: use one per thread.</para>
/// <para>A PredictionEngine created with ML.NET's default options owns its model and disposes it when it is disposed
/// itself. For engines of a model that outlives them (one per thread or per request), pass
/// <c>new PredictionEngineOptions { OwnsTransformer = false }</c>, and dispose the model when done with it.</para>
/// </remarks>
public sealed class CompactTransformerModel : ITransformer, IDisposable
{
    private readonly TransformerChain<ITransformer> chain;
    private readonly string modelFile;
    private readonly byte[] onnxModel;
    private readonly string? notSavableReason;
    private int disposed;

    // The model owns the chain and modelFile, the temporary ONNX file the chain's ApplyOnnxModel reads; Dispose releases both.
    internal CompactTransformerModel(TransformerChain<ITransformer> chain, string modelFile, byte[] onnxModel, CctArchitecture architecture,
        IReadOnlyList<string> classNames, PixelNormalization normalization, ValueMixing mixing, TrainingHistory history,
        string? notSavableReason = null)
    {
        this.notSavableReason = notSavableReason;
        this.chain = chain;
        this.modelFile = modelFile;
        this.onnxModel = onnxModel;
        Architecture = architecture;
        ClassNames = classNames;
        Normalization = normalization;
        Mixing = mixing.Clone();
        History = history;
    }

    /// <summary>
    /// Wraps an already trained network (e.g. one loaded from the original authors' PyTorch checkpoint) as a model
    /// whose input is a <c>Vector&lt;Single&gt;</c> column of C*H*W pixels named <paramref name="featureColumnName"/>.
    /// The network's current alpha, beta and scope are exported.
    /// </summary>
    /// <param name="mlContext">Context for the stock transforms.</param>
    /// <param name="network">The network to export.</param>
    /// <param name="classNames">One name per class, in class-index order.</param>
    /// <param name="normalization">Applied to the input before the network; <see cref="PixelNormalization.Identity"/> uses the input as is.</param>
    /// <param name="featureColumnName">Name of the input column.</param>
    public static CompactTransformerModel FromNetwork(MLContext mlContext, CctNetwork network, IReadOnlyList<string> classNames,
        PixelNormalization normalization, string featureColumnName = DefaultColumns.Features)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(normalization);
        var arch = network.Architecture;
        var schema = new DataViewSchema.Builder();
        schema.AddColumn(featureColumnName, new VectorDataViewType(NumberDataViewType.Single, arch.InputChannels * arch.ImageHeight * arch.ImageWidth));
        return CompactTransformerModelBuilder.Build(mlContext, schema.ToSchema(), featureColumnName, network, classNames,
            normalization.ForChannels(arch.InputChannels), new TrainingHistory());
    }

    /// <summary>The network's architecture (image size, channels and classes included).</summary>
    public CctArchitecture Architecture { get; }

    /// <summary>Class names in the training label's key order (class i is key i + 1).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The pixel normalisation folded into the ONNX graph.</summary>
    public PixelNormalization Normalization { get; }

    /// <summary>The attention variant in force at the end of training (the exported alpha, beta and scope).</summary>
    public ValueMixing Mixing { get; }

    /// <summary>Per-epoch learning curves of the training run.</summary>
    public TrainingHistory History { get; }

    /// <summary>The stock ML.NET transforms this model consists of.</summary>
    public TransformerChain<ITransformer> ScoringChain => chain;

    /// <summary>A copy of the ONNX model bytes (input: C*H*W pixels; outputs: Score and PredictedIndex).</summary>
    public byte[] GetOnnxModel() => (byte[])onnxModel.Clone();

    /// <summary>The temporary ONNX file behind the scoring chain, deleted on <see cref="Dispose"/>.</summary>
    internal string ModelFile => modelFile;

    /// <summary>
    /// Writes the ONNX model to <paramref name="path"/> through a temporary file: a failure leaves no partial file, and a file
    /// already at <paramref name="path"/> stays as it was.
    /// </summary>
    public void SaveOnnx(string path) => AtomicFile.WriteAllBytes(path, onnxModel);

    /// <summary>
    /// Saves the model as <c>mlContext.Model.Save(model, inputSchema, path)</c> does (a zip of stock transforms), but through a
    /// temporary file: a failure leaves no partial file, and a file already at <paramref name="path"/> stays as it was. (ML.NET's
    /// own <c>Save</c> truncates the file before it writes, so a failure there leaves a partial zip.)
    /// </summary>
    /// <param name="path">The zip to write.</param>
    /// <param name="inputSchema">The schema of the data the model scores (the training data's), stored in the zip as ML.NET does.</param>
    /// <exception cref="InvalidOperationException">The model cannot be saved as stock transforms (it reads encoded image bytes).</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public void Save(string path, DataViewSchema inputSchema)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfDisposed();
        if (notSavableReason is not null)
            throw new InvalidOperationException(notSavableReason);
        var mlContext = new MLContext();
        AtomicFile.Write(path, temporary => mlContext.Model.Save(this, inputSchema, temporary));
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => ((ITransformer)chain).IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => chain.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The model was disposed (also by a PredictionEngine that owned it).</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return ((ITransformer)chain).GetRowToRowMapper(inputSchema);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The model was disposed (also by a PredictionEngine that owned it).</exception>
    public IDataView Transform(IDataView input)
    {
        ThrowIfDisposed();
        return chain.Transform(input);
    }

    // Without this check a disposed model fails deep inside ONNX Runtime with a NullReferenceException.
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

    /// <summary>Saves the stock transforms only, so the zip loads without this assembly.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        if (notSavableReason is not null)
            throw new InvalidOperationException(notSavableReason);
        // The chain's ApplyOnnxModel reads the ONNX file again now, which Dispose deleted.
        ThrowIfDisposed();
        ((ICanSaveModel)chain).Save(ctx);
    }

    /// <summary>Releases the ONNX Runtime session and deletes the temporary ONNX file; the model scores and saves no more.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        chain.Dispose();
        Onnx.TempModelFiles.Delete(modelFile);
    }
}
