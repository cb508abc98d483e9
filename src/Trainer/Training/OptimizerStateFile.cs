using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// AdamW's state in a training checkpoint (<c>optimizer.bin</c>, TorchSharp's <c>save_state_dict</c> format: the
/// optimizer's type name, the group and state counts, per group its hyperparameters, per parameter its step count and
/// moments). Read and checked in managed code against the optimizer it is meant for before TorchSharp loads it.
/// </summary>
/// <remarks>
/// The file always names TorchSharp's <see cref="AdamW"/>, also when <see cref="FlatAdamW"/> wrote it: that one keeps
/// the same state in the same order, and TorchSharp writes and checks the in-memory class name, so naming the file for
/// AdamW lets a checkpoint move between the two (a run begun on a GPU can finish on the CPU; older checkpoints load).
/// </remarks>
internal sealed class OptimizerStateFile
{
    private readonly CheckpointBinaryReader _file;
    private readonly int _nameEnd;

    private OptimizerStateFile(CheckpointBinaryReader file, int nameEnd)
    {
        _file = file;
        _nameEnd = nameEnd;
    }

    /// <summary>The class name a file of <paramref name="optimizer"/>'s state carries.</summary>
    public static string StoredName(OptimizerHelper optimizer) => optimizer is AdamW ? nameof(AdamW) : optimizer.GetType().Name;

    /// <summary>Writes <paramref name="optimizer"/>'s state to <paramref name="path"/>, named as <see cref="StoredName"/> says.</summary>
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
            writer.Write(StoredName(optimizer));
        state.CopyTo(file);
    }

    /// <summary>The whole file.</summary>
    public byte[] Bytes => _file.Bytes;

    /// <summary>
    /// Reads the file at <paramref name="path"/> and checks it against <paramref name="optimizer"/>: same type, as many
    /// groups and parameters, moments of each parameter's type and shape, sane hyperparameters, nothing after the end.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, damaged, or written for another optimizer or network.</exception>
    public static OptimizerStateFile Read(string path, OptimizerHelper optimizer)
    {
        var file = CheckpointBinaryReader.Open(path, "AdamW state written by TorchSharp's save_state_dict");
        int at = file.Position;
        string name = file.String("the optimizer type");
        if (name != StoredName(optimizer))
            throw file.Damaged($"it holds the state of optimizer '{name}'; expected {StoredName(optimizer)}", at);
        int nameEnd = file.Position;

        var groups = optimizer.ParamGroups.ToArray();
        var parameters = optimizer.parameters().ToArray();
        at = file.Position;
        long groupCount = file.Leb128("the parameter group count");
        long stateCount = file.Leb128("the parameter state count");
        if (groupCount != groups.Length || stateCount != parameters.Length)
            throw file.Damaged(
                $"it holds {groupCount} parameter groups and {stateCount} parameter states; the optimizer has {groups.Length} and {parameters.Length}", at);

        for (int g = 0; g < groups.Length; g++)
        {
            at = file.Position;
            double initialRate = file.Double($"the initial learning rate of group {g}");
            double rate = file.Double($"the learning rate of group {g}");
            double beta1 = file.Double($"beta1 of group {g}"), beta2 = file.Double($"beta2 of group {g}");
            double eps = file.Double($"eps of group {g}"), weightDecay = file.Double($"the weight decay of group {g}");
            bool amsgrad = file.Boolean($"amsgrad of group {g}");
            file.Boolean($"maximize of group {g}");
            if (!(double.IsFinite(initialRate) && double.IsFinite(rate) && beta1 is >= 0 and < 1 && beta2 is >= 0 and < 1
                && eps is >= 0 && double.IsFinite(eps) && weightDecay is >= 0 && double.IsFinite(weightDecay)))
                throw file.Damaged($"group {g} has learning rate {rate}, betas ({beta1}, {beta2}), eps {eps}, weight decay {weightDecay}; " +
                    "expected finite values, betas in [0, 1) and no negative eps or decay", at);
            if (groups[g] is ParamGroup { Options: AdamW.Options { amsgrad: { } uses } } && uses != amsgrad)
                throw file.Damaged($"group {g} {(amsgrad ? "uses" : "does not use")} AMSGrad, unlike the optimizer", at);
        }

        for (int p = 0; p < parameters.Length; p++)
        {
            at = file.Position;
            long step = file.Int64($"the step count of parameter {p}");
            if (step < 0)
                throw file.Damaged($"parameter {p} has step count {step}", at);
            Expect(file, file.Tensor($"the first moment of parameter {p}"), parameters[p], p);
            Expect(file, file.Tensor($"the second moment of parameter {p}"), parameters[p], p);
            if (file.Boolean($"the AMSGrad flag of parameter {p}"))
                Expect(file, file.Tensor($"the AMSGrad maximum of parameter {p}"), parameters[p], p);
        }
        file.ExpectEnd($"the state of {parameters.Length} parameters");
        return new OptimizerStateFile(file, nameEnd);
    }

    /// <summary>Loads the checked state into <paramref name="optimizer"/>, the one given to <see cref="Read"/>.</summary>
    public void LoadInto(OptimizerHelper optimizer)
    {
        // TorchSharp wants the in-memory class's name in front.
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            writer.Write(optimizer.GetType().Name);
        stream.Write(_file.Bytes, _nameEnd, _file.Bytes.Length - _nameEnd);
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        optimizer.load_state_dict(reader);
    }

    private static void Expect(CheckpointBinaryReader file, StoredTensor stored, Tensor parameter, int index)
    {
        if (!stored.Fits(parameter))
            throw file.Damaged($"the moments of parameter {index} are {stored}; the parameter is {StoredTensor.Describe(parameter.dtype, parameter.shape)}",
                stored.RecordOffset);
    }
}
