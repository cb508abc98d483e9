using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Tests.Support;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GpuCheck;

/// <summary>
/// <c>parity</c>: every fixture of the original on the device: the forward intermediates, and where the fixture has them
/// the loss, every gradient and one AdamW step (taken by the flat optimizer the CUDA path uses). Bounds are relative to
/// the reference's largest magnitude (at least 1). On CUDA it runs twice: strict float32 (TF32 off for matrix products
/// and convolutions), which must pass, and with TF32 on, which is reported.
/// </summary>
internal static class FixtureParity
{
    private const string TinyGradient = "classifier.attention_pool.bias"; // analytically zero: round-off only

    public static int Run(Arguments arguments)
    {
        TorchRuntime.EnsureInitialized();
        var device = arguments.Device();
        var fixtures = ReferenceFixture.AllIn(arguments.Text("fixtures", "test/Fixtures/cct-reference"));
        double tolerance = arguments.Number("tolerance", 1e-4);
        using var csv = new Csv(arguments.OptionalText("csv"), "device", "mode", "fixture", "check", "max_diff", "bound", "pass");
        string[] modes = device.type == DeviceType.CUDA ? ["fp32", "tf32"] : ["fp32"];
        bool matmul = backends.cuda.matmul.allow_tf32, convolution = backends.cudnn.allow_tf32;
        bool strictPassed = true;
        int strictChecks = 0;
        try
        {
            foreach (string mode in modes)
            {
                if (device.type == DeviceType.CUDA)
                {
                    backends.cuda.matmul.allow_tf32 = mode == "tf32";
                    backends.cudnn.allow_tf32 = mode == "tf32";
                }
                foreach (var fixture in fixtures)
                {
                    IEnumerable<(string Check, double Diff, double Bound)> checks;
                    try
                    {
                        checks = Checks(fixture, device, tolerance);
                    }
                    catch (Exception e)
                    {
                        // A fixture that cannot run is a failed check, reported, and the others still run.
                        Console.WriteLine($"PARITY {mode} {fixture.Name}: EXCEPTION {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                        checks = [("exception", double.PositiveInfinity, 0)];
                    }
                    foreach (var (check, diff, bound) in checks)
                    {
                        bool pass = diff <= bound;
                        if (mode == "fp32")
                        {
                            strictPassed &= pass;
                            strictChecks++;
                        }
                        csv.Row(TrainingDevices.Describe(device), mode, fixture.Name, check, diff, bound, pass ? "yes" : "no");
                        Console.WriteLine($"PARITY {mode} {fixture.Name} {check}: max diff {diff:E2} (bound {bound:E2}) {(pass ? "ok" : "FAIL")}");
                    }
                }
            }
        }
        finally
        {
            if (device.type == DeviceType.CUDA)
            {
                backends.cuda.matmul.allow_tf32 = matmul;
                backends.cudnn.allow_tf32 = convolution;
            }
        }
        Console.WriteLine($"RESULT parity {(strictPassed ? "PASS" : "FAIL")}: {fixtures.Count} fixtures, {strictChecks} float32 checks at {tolerance:G3} on {TrainingDevices.Describe(device)}");
        return strictPassed ? 0 : 1;
    }

    private static IEnumerable<(string Check, double Diff, double Bound)> Checks(ReferenceFixture fixture, Device device, double tolerance)
    {
        var results = new List<(string, double, double)>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var network = fixture.BuildNetwork().to(device);
            var input = fixture.Array("input").to(device);
            using var outputs = network.ForwardWithIntermediates(input);
            foreach (var (key, actual) in new[] { ("tokens", outputs.Tokens), ("encoded", outputs.Encoded), ("pooled", outputs.Pooled), ("logits", outputs.Logits) })
            {
                var expected = fixture.Array(key);
                results.Add(($"forward {key}", MaxDiff(expected, actual), tolerance * Math.Max(1, MaxAbs(expected))));
            }
        }
        if (fixture.Manifest.TryGetProperty("grad_check", out var check))
            results.AddRange(GradientChecks(fixture, check, device, tolerance));
        return results;
    }

    private static IEnumerable<(string, double, double)> GradientChecks(ReferenceFixture fixture, System.Text.Json.JsonElement check, Device device, double tolerance)
    {
        var results = new List<(string, double, double)>();
        using var scope = NewDisposeScope();
        using var network = fixture.BuildNetwork().to(device);
        var input = fixture.Array("input").to(device);
        var labels = fixture.Array("labels").to(device);
        var loss = nn.functional.cross_entropy(network.call(input), labels);
        loss.backward();
        double expectedLoss = check.GetProperty("loss").GetDouble();
        results.Add(("loss", Math.Abs(loss.item<float>() - expectedLoss), tolerance * Math.Max(1, Math.Abs(expectedLoss))));

        var named = network.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter);
        double tiny = check.GetProperty("fp64_vs_fp32").GetProperty("tiny_threshold").GetDouble();
        double worstNorm = 0;
        foreach (var norm in check.GetProperty("grad_l2_norm").EnumerateObject())
        {
            double expected = norm.Value.GetDouble();
            if (expected < tiny)
                continue; // analytically zero: round-off only
            double actual = named[norm.Name].grad!.to_type(ScalarType.Float64).norm().item<double>();
            worstNorm = Math.Max(worstNorm, Math.Abs(actual - expected) / expected);
        }
        results.Add(("gradient norms (relative)", worstNorm, tolerance));

        if (check.TryGetProperty("grads", out var grads))
        {
            var file = fixture.FilePath(grads.GetProperty("file").GetString()!);
            double worst = 0;
            foreach (var t in grads.GetProperty("tensors").EnumerateArray())
            {
                string name = t.GetProperty("name").GetString()!;
                if (name == TinyGradient)
                    continue;
                var expected = tensor(ReferenceFixture.ReadFloats(file, t.GetProperty("offset").GetInt64(), t.GetProperty("nbytes").GetInt32()), ReferenceFixture.Shape(t));
                worst = Math.Max(worst, MaxDiff(expected, named[name].grad!) / MaxAbs(expected));
            }
            results.Add(("gradient elements (relative to tensor max)", worst, tolerance));
        }

        if (check.TryGetProperty("adamw_step", out var step))
        {
            var hp = step.GetProperty("hyperparameters");
            var betas = hp.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()).ToArray();
            var groups = new[] { new TorchSharp.Modules.AdamW.ParamGroup(named.Values, hp.GetProperty("lr").GetDouble(), betas[0], betas[1], hp.GetProperty("eps").GetDouble(), hp.GetProperty("weight_decay").GetDouble()) };
            // The gradients are in place already: the flat optimizer takes them over with the parameters.
            var gradients = named.ToDictionary(p => p.Key, p => p.Value.grad!.detach().clone());
            using var optimizer = new FlatAdamW(groups, hp.GetProperty("lr").GetDouble(), betas[0], betas[1], hp.GetProperty("eps").GetDouble(), hp.GetProperty("weight_decay").GetDouble());
            using (no_grad())
                foreach (var (name, p) in named)
                    p.grad!.copy_(gradients[name]);
            optimizer.step();
            double worst = 0;
            foreach (var after in step.GetProperty("param_l2_norm_after").EnumerateObject())
            {
                if (after.Name == TinyGradient)
                    continue; // its update is lr * noise / (|noise| + eps): not comparable (fixture README)
                double actual = named[after.Name].to_type(ScalarType.Float64).norm().item<double>();
                worst = Math.Max(worst, Math.Abs(actual - after.Value.GetDouble()) / after.Value.GetDouble());
            }
            results.Add(("flat AdamW step: parameter norms (relative)", worst, tolerance));
            using (no_grad())
            {
                var lossAfter = nn.functional.cross_entropy(network.call(input), labels).item<float>();
                double expectedAfter = step.GetProperty("loss_after_step").GetDouble();
                results.Add(("flat AdamW step: loss after", Math.Abs(lossAfter - expectedAfter), tolerance * Math.Max(1, Math.Abs(expectedAfter))));
            }
        }
        return results;
    }

    private static double MaxDiff(Tensor expected, Tensor actual) =>
        (expected.to(actual.device).to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();

    private static double MaxAbs(Tensor t) => t.abs().max().to_type(ScalarType.Float64).item<double>();
}
