using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp.Modules;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>Every way the library reads a file, as the reliability tests call them, and what counts as a clear failure.</summary>
internal static class FileReaders
{
    /// <summary>The documented failures of a damaged file: the file is unreadable, or holds another network.</summary>
    public static readonly Type[] DamagedFile = [typeof(InvalidDataException), typeof(CheckpointMismatchException)];

    /// <summary>Restoring a checkpoint may also refuse one written by another run (a damaged state.json may look like one).</summary>
    public static readonly Type[] DamagedCheckpoint = [.. DamagedFile, typeof(InvalidOperationException)];

    /// <summary>The model zip through our reader, then the network rebuilt from it.</summary>
    public static void ReadModelZip(string path)
    {
        var saved = CompactTransformerModelFile.Read(path);
        using var network = saved.CreateNetwork();
    }

    /// <summary>
    /// A context whose temporary files go to <paramref name="folder"/>: when ONNX Runtime rejects a model, ML.NET leaves
    /// its temporary copy of the ONNX bytes behind, which would otherwise pile up in the system temp folder.
    /// </summary>
    public static MLContext Context(string folder) => new(seed: 0) { TempFilePath = folder };

    /// <summary>The model zip through our checked loader, then ML.NET.</summary>
    public static void LoadModelZip(string path, string tempFolder)
    {
        var model = CompactTransformerModelFile.Load(Context(tempFolder), path, out _);
        (model as IDisposable)?.Dispose();
    }

    /// <summary>The model zip through ML.NET alone, as a user without this library loads it.</summary>
    public static void LoadWithMlNet(string path, string tempFolder)
    {
        var model = Context(tempFolder).Model.Load(path, out _);
        (model as IDisposable)?.Dispose();
    }

    public static void ReadOnnx(string path) => OnnxModelReader.ReadFile(path);

    /// <summary>A .pt file strictly into a network of <paramref name="architecture"/>.</summary>
    public static void LoadPyTorch(string path, CctArchitecture architecture)
    {
        using var network = new CctNetwork(architecture);
        PyTorchCheckpoint.Load(network, path);
    }

    /// <summary>Resumes from the checkpoint <paramref name="folder"/> as the run that wrote <paramref name="files"/>' checkpoint would.</summary>
    public static void RestoreCheckpoint(string folder, ValidFiles files)
    {
        using var target = new ResumingRun(files);
        target.Restore(folder);
    }

    /// <summary>Only the weights of the checkpoint <paramref name="folder"/>, as initial weights of a new run.</summary>
    public static void LoadCheckpointWeights(string folder, CctArchitecture architecture, ValueMixing mixing)
    {
        using var network = new CctNetwork(architecture, mixing.Clone());
        InitialWeights.Load(network, folder);
    }

    /// <summary>
    /// The network, optimizer and tracker of a run that resumes from the valid files' checkpoint, made once and restored
    /// into many times (a failed restore leaves them as they were).
    /// </summary>
    public sealed class ResumingRun : IDisposable
    {
        private readonly ValidFiles files;
        private readonly OptimizerHelper optimizer;
        private readonly BestEpochTracker? tracker;

        public ResumingRun(ValidFiles files)
        {
            this.files = files;
            Network = new CctNetwork(files.Architecture, files.Mixing.Clone());
            optimizer = OptimizerGroups.CreateAdamW(Network, files.CheckpointState.Settings).Optimizer;
            tracker = BestEpochTracker.For(files.CheckpointState.Settings, hasValidation: true);
        }

        public CctNetwork Network { get; }

        public void Restore(string folder) => TrainingCheckpoint.Restore(folder, files.CheckpointState.Settings,
            files.CheckpointState.TrainingImages, Network, optimizer, tracker);

        public void Dispose()
        {
            tracker?.Dispose();
            optimizer.Dispose();
            Network.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/>: fine when it returns (a damage can be harmless) or throws one of
    /// <paramref name="allowed"/> with a message naming <paramref name="mustName"/>; any other exception fails the test.
    /// Returns what happened, for the test's summary.
    /// </summary>
    public static string Outcome(Action read, string mustName, Type[] allowed) => Outcome(read, _ => mustName, allowed);

    /// <summary>Like the other overload, with what the message must name depending on the exception.</summary>
    public static string Outcome(Action read, Func<Exception, string> mustName, Type[] allowed)
    {
        try
        {
            read();
            return "loaded";
        }
        catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e)))
        {
            string name = mustName(e);
            Assert.True(e.Message.Contains(name, StringComparison.Ordinal), $"{e.GetType().Name} does not name '{name}': {e.Message}");
            return e.GetType().Name;
        }
    }
}
