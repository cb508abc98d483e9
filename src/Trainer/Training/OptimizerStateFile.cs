using System.Text;
using TorchSharp.Modules;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// AdamW's state in a checkpoint: TorchSharp's <c>save_state_dict</c> format, always under the name of TorchSharp's
/// per-parameter <see cref="AdamW"/>. TorchSharp writes the optimizer's class name first and refuses another on load;
/// <see cref="FlatAdamW"/> keeps the same state in the same order, so naming the file for AdamW lets a checkpoint move
/// between the two (a run begun on a GPU with the flat optimizer can finish on the CPU, and older checkpoints load).
/// </summary>
internal static class OptimizerStateFile
{
    /// <summary>The class name stored in the file.</summary>
    public const string StoredName = nameof(AdamW);

    /// <summary>Writes <paramref name="optimizer"/>'s state to <paramref name="path"/>.</summary>
    public static void Save(OptimizerHelper optimizer, string path)
    {
        using var state = new MemoryStream();
        using (var writer = new BinaryWriter(state, Encoding.UTF8, leaveOpen: true))
            optimizer.save_state_dict(writer);
        state.Position = 0;
        using (var reader = new BinaryReader(state, Encoding.UTF8, leaveOpen: true))
            reader.ReadString(); // the in-memory class's name, replaced below
        using var file = File.Create(path);
        using (var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
            writer.Write(StoredName);
        state.CopyTo(file);
    }

    /// <summary>Reads the state at <paramref name="path"/> into <paramref name="optimizer"/>.</summary>
    /// <exception cref="InvalidDataException">The file holds another optimizer's state.</exception>
    public static void Load(OptimizerHelper optimizer, string path)
    {
        using var file = File.OpenRead(path);
        using (var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true))
        {
            string name = reader.ReadString();
            if (name != StoredName)
                throw new InvalidDataException($"'{path}' holds the state of a {name} optimizer; expected {StoredName}.");
        }
        using var state = new MemoryStream();
        using (var writer = new BinaryWriter(state, Encoding.UTF8, leaveOpen: true))
            writer.Write(optimizer.GetType().Name);
        file.CopyTo(state);
        state.Position = 0;
        using var stateReader = new BinaryReader(state, Encoding.UTF8, leaveOpen: true);
        optimizer.load_state_dict(stateReader);
    }
}
