using System.Diagnostics;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GpuCheck;

/// <summary>
/// <c>step-time</c>: our training step (zero the gradients, forward under the chosen precision, cross-entropy, backward,
/// AdamW) on one fixed batch on the device, timed like <c>torch_peer.py</c> (../shared/gpu) times PyTorch's: the median
/// of per-step times with a device synchronisation after each step, on the same shapes (batch 128, 32x32x3, 10 classes,
/// AdamW lr 1e-3, weight decay 0.05) and the same models (cct_2_3x2_32 is its "small", cct_7_3x1_32 its "big"; dropout,
/// attention dropout and drop path off, as there). Also the time per step of a run of steps without synchronisation,
/// which is how the training loop runs. Prints torch_peer-style RESULT lines.
/// </summary>
internal static class StepTiming
{
    public static int Run(Arguments arguments)
    {
        TorchRuntime.EnsureInitialized();
        var device = arguments.Device();
        int batch = arguments.Integer("batch", 128);
        int stepsOverride = arguments.Integer("steps", 0);
        var models = arguments.List("models", "cct_2_3x2_32,cct_7_3x1_32");
        var modes = arguments.List("modes", "fp32-loop,fp32-flat,bf16-flat").Select(Mode.Parse).ToArray();
        using var csv = new Csv(arguments.OptionalText("csv"), "impl", "model", "peer_config", "device", "precision", "optimizer", "batch", "steps",
            "median_step_ms", "pipelined_step_ms", "imgs_per_s", "first_loss", "final_loss");
        Console.WriteLine($"[ours] device {TrainingDevices.Describe(device)}; TF32 matmul={backends.cuda.matmul.allow_tf32} cudnn={backends.cudnn.allow_tf32}");
        int failures = 0;
        foreach (string model in models)
        {
            foreach (var mode in modes)
            {
                int steps = stepsOverride > 0 ? stepsOverride : model.StartsWith("cct_7", StringComparison.Ordinal) ? 20 : 50;
                string peer = PeerConfig(model);
                string impl = $"ours-{mode.Name}";
                Timing r;
                try
                {
                    r = Time(model, mode, device, batch, steps);
                }
                catch (Exception e) when (e is not ArgumentException)
                {
                    // Report and go on with the other configurations, as torch_peer.py does.
                    Console.WriteLine($"[ours] EXCEPTION in {impl} {peer}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                    failures++;
                    continue;
                }
                Console.WriteLine($"RESULT {impl} {peer}: median_step_ms={r.MedianMs:F3} imgs_per_s={batch * 1000 / r.MedianMs:F0} pipelined_step_ms={r.PipelinedMs:F3} " +
                    $"first_step_ms={r.FirstMs:F1} first_loss={r.FirstLoss:F4} final_loss={r.FinalLoss:F4}");
                csv.Row(impl, model, peer, TrainingDevices.Describe(device), mode.Precision, mode.Flat ? "flat" : "loop", batch, steps,
                    r.MedianMs, r.PipelinedMs, batch * 1000 / r.MedianMs, r.FirstLoss, r.FinalLoss);
            }
        }
        return failures == 0 ? 0 : 1;
    }

    // torch_peer.py names its twins by size and attention path; ours use SDPA for standard attention.
    private static string PeerConfig(string model) => model switch
    {
        "cct_2_3x2_32" => "small-sdpa",
        "cct_7_3x1_32" => "big-sdpa",
        _ => model,
    };

    private sealed record Mode(string Name, MixedPrecision Precision, bool Flat)
    {
        public static Mode Parse(string name) => name switch
        {
            "fp32-loop" => new Mode(name, MixedPrecision.None, false),
            "fp32-flat" => new Mode(name, MixedPrecision.None, true),
            "bf16-loop" => new Mode(name, MixedPrecision.BFloat16, false),
            "bf16-flat" => new Mode(name, MixedPrecision.BFloat16, true),
            _ => throw new ArgumentException($"Unknown mode '{name}'; expected fp32-loop, fp32-flat, bf16-loop or bf16-flat."),
        };
    }

    private sealed record Timing(double MedianMs, double PipelinedMs, double FirstMs, double FirstLoss, double FinalLoss);

    private static Timing Time(string model, Mode mode, Device device, int batch, int steps)
    {
        using var outer = NewDisposeScope();
        manual_seed(0);
        var architecture = CctPresets.Get(model) with { NumClasses = 10, Dropout = 0, AttentionDropout = 0, StochasticDepth = 0 };
        using var network = new CctNetwork(architecture);
        network.to(device).train();
        var settings = new TrainingSettings { LearningRate = 1e-3, WeightDecay = 0.05 };
        var (optimizer, _) = OptimizerGroups.CreateAdamW(network, settings, mode.Flat);
        using var _ = optimizer;
        var x = randn([batch, architecture.InputChannels, architecture.ImageHeight, architecture.ImageWidth], device: device);
        var y = randint(0, 10, [batch], device: device);
        var dtype = Autocast.DtypeOf(mode.Precision);

        Tensor Step()
        {
            optimizer.zero_grad();
            Tensor loss;
            using (Autocast.Enter(device, dtype))
                loss = ClassificationLoss.CrossEntropy(network.call(x), y, 0);
            loss.backward();
            optimizer.step();
            return loss;
        }

        var times = new List<double>();
        double first = double.NaN, last = double.NaN;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var loss = Step();
            Synchronize(device);
            times.Add(clock.Elapsed.TotalMilliseconds);
            last = loss.item<float>();
            if (s == 0)
                first = last;
        }
        // The loop's way: no synchronisation between steps, one at the end.
        var pipelined = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            Step();
        }
        Synchronize(device);
        double pipelinedMs = pipelined.Elapsed.TotalMilliseconds / steps;
        var sorted = times.Order().ToArray();
        return new Timing(sorted[sorted.Length / 2], pipelinedMs, times[0], first, last);
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
            cuda.synchronize(device);
    }
}
