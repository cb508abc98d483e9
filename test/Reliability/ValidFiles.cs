using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// One valid file of every kind the library reads, made once for the reliability tests: a tiny model trained for one
/// epoch (with validation, so its checkpoint has a tracker file) and saved as a model zip, its ONNX export, the training
/// checkpoint of that epoch, and its network as a PyTorch .pt; plus a .pt the original implementation wrote.
/// </summary>
public sealed class ValidFiles : IDisposable
{
    public ValidFiles()
    {
        Folder = Directory.CreateTempSubdirectory("cct-valid-files-").FullName;
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        var validation = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(16, seed: 2));
        var options = SyntheticImages.TinyOptions(epochs: 1);
        options.CheckpointEvery = 1;
        options.CheckpointFolder = Path.Combine(Folder, "checkpoints");
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train, validation);

        ModelZip = Path.Combine(Folder, "model.zip");
        ml.Model.Save(model, train.Schema, ModelZip);
        OnnxFile = Path.Combine(Folder, "model.onnx");
        model.SaveOnnx(OnnxFile);
        Checkpoint = Path.Combine(options.CheckpointFolder, TrainingCheckpoint.FolderName(1));
        CheckpointState = TrainingCheckpoint.ReadState(Checkpoint);
        Architecture = model.Architecture;
        Mixing = model.Mixing;
        PyTorchFile = Path.Combine(Folder, "model.pt");
        using (var network = CompactTransformerModelFile.Read(ModelZip).CreateNetwork())
            PyTorchCheckpoint.Save(network, PyTorchFile);
    }

    /// <summary>Where the files are.</summary>
    public string Folder { get; }

    /// <summary>The model saved with <c>mlContext.Model.Save</c>.</summary>
    public string ModelZip { get; }

    /// <summary>The model's ONNX graph.</summary>
    public string OnnxFile { get; }

    /// <summary>The checkpoint folder of epoch 1: model.bin, optimizer.bin, best.bin, state.json.</summary>
    public string Checkpoint { get; }

    /// <summary>What the checkpoint's state.json holds (its settings are the ones to restore with).</summary>
    internal TrainingCheckpoint.State CheckpointState { get; }

    /// <summary>The network written by this library as a PyTorch state_dict.</summary>
    public string PyTorchFile { get; }

    /// <summary>A state_dict of cct_2_3x2_32 that the original PyTorch implementation wrote.</summary>
    public static string ReferencePyTorchFile => Support.ReferenceFixture.PathOf("cct_2_3x2_32.pt");

    /// <summary>The tiny model's architecture.</summary>
    public CctArchitecture Architecture { get; }

    /// <summary>The tiny model's attention weights.</summary>
    public ValueMixing Mixing { get; }

    public void Dispose() => Support.ScratchFolder.Delete(Folder);
}

/// <summary>
/// The reliability tests share one set of valid files. They build hundreds of networks, each initialised from libtorch's
/// global generator, so they run alone: tests that seed that generator and compare weights would otherwise see their
/// draws taken (as in <see cref="Training.TorchGlobalStateCollection"/>).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ValidFilesCollection : ICollectionFixture<ValidFiles>
{
    public const string Name = "valid files to damage";
}
