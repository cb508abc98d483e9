using System.Globalization;
using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace GpuCheck;

/// <summary>A command and its <c>--name value</c> options.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> values;

    private Arguments(string command, Dictionary<string, string> values)
    {
        Command = command;
        this.values = values;
    }

    public string Command { get; }

    public static Arguments Parse(string[] args)
    {
        if (args.Length == 0)
            throw new ArgumentException("No command: give info, parity or step-time.");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 == args.Length)
                throw new ArgumentException($"Expected '--name value' pairs; got '{args[i]}'.");
            values[args[i][2..]] = args[++i];
        }
        return new Arguments(args[0], values);
    }

    public string Text(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public string? OptionalText(string name) => values.GetValueOrDefault(name);

    public string[] List(string name, string fallback) =>
        Text(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public int Integer(string name, int fallback) =>
        values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Number(string name, double fallback) =>
        values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The device of <c>--device</c> (default cuda), through the library's own resolution and its error.</summary>
    public Device Device()
    {
        var choice = Text("device", "cuda") switch
        {
            "cuda" => TrainingDevice.Cuda,
            "cpu" => TrainingDevice.Cpu,
            "auto" => TrainingDevice.Auto,
            var other => throw new ArgumentException($"--device must be cuda, cpu or auto; got '{other}'."),
        };
        try
        {
            return TrainingDevices.Resolve(choice, "--device");
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }
}
