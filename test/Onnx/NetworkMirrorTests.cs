using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>
/// The exported graph against the TorchSharp module it came from, for the structures the fixtures do not
/// cover (patch tokenizer, class token, sine / no embedding, pre-norm) and every variant scope.
/// </summary>
public class NetworkMirrorTests
{
    public static TheoryData<string, NormPlacement, AttentionScope, double, double> Cases()
    {
        var data = new TheoryData<string, NormPlacement, AttentionScope, double, double>();
        foreach (var preset in new[] { "cct_2_3x2_32", "cct_2_3x2_32_sine", "cvt_2_4_32", "vit_2_4_32", "vit_2_4_32_sine" })
            foreach (var placement in new[] { NormPlacement.Original, NormPlacement.PreNorm })
                data.Add(preset, placement, AttentionScope.None, 0, 1);
        foreach (var scope in new[] { AttentionScope.SelfAttention, AttentionScope.Pooling, AttentionScope.Both })
        {
            data.Add("cct_2_3x2_32", NormPlacement.Original, scope, 0.3, 0.7);
            data.Add("cct_2_3x2_32", NormPlacement.PreNorm, scope, -1, 1);
            data.Add("vit_2_4_32", NormPlacement.Original, scope, 1, 0);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxGraphComputesWhatTheModuleComputes(string preset, NormPlacement placement, AttentionScope scope, double alpha, double beta)
    {
        var arch = CctPresets.Get(preset) with { NormPlacement = placement, InputChannels = 1, NumClasses = 5 };
        using var network = new CctNetwork(arch, new ValueMixing(alpha, beta, scope));
        network.eval();
        manual_seed(7);
        using var input = randn(1, 1, 32, 32);
        using var _ = no_grad();
        using var logits = network.call(input);

        var model = CctNetworkSnapshot.ExportOnnx(network, new OnnxExportSettings { LogitsOutputName = "Logits" });
        var outputs = OrtRunner.Run(model, "Features", input.data<float>().ToArray(), 1 * 32 * 32);
        var onnxLogits = (float[])outputs["Logits"];
        var expected = logits.data<float>().ToArray();
        Assert.Equal(expected.Length, onnxLogits.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - onnxLogits[i]) <= 1e-5,
                $"logit {i}: TorchSharp {expected[i]} vs ONNX {onnxLogits[i]}");
    }

    public static TheoryData<string> Fixtures => new(Support.ReferenceFixture.All);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void OnnxRuntimeMatchesTorchSharpOnEveryFixture(string name)
    {
        var fixture = Support.ReferenceFixture.Load(name);
        using var network = fixture.BuildNetwork();
        using var input = fixture.Array("input");
        using var _ = no_grad();
        using var logits = network.call(input);
        var model = CctNetworkSnapshot.ExportOnnx(network, new OnnxExportSettings { LogitsOutputName = "Logits", BatchAxis = true });
        var onnx = (float[])OrtRunner.Run(model, "Features", input.data<float>().ToArray(), input.shape[0], input.shape[1] * input.shape[2] * input.shape[3])["Logits"];
        var expected = logits.data<float>().ToArray();
        Assert.Equal(expected.Length, onnx.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - onnx[i]) <= 1e-5, $"{name} logit {i}: TorchSharp {expected[i]} vs ONNX {onnx[i]}");
    }

    [Fact]
    public void ExportTakesTheAlphaAndBetaInForceAtExportTime()
    {
        var arch = CctPresets.Get("cct_2_3x2_32") with { InputChannels = 1 };
        using var network = new CctNetwork(arch, new ValueMixing(0, 1, AttentionScope.Both));
        network.eval();
        using var input = randn(1, 1, 32, 32);
        var settings = new OnnxExportSettings { LogitsOutputName = "Logits" };
        var standard = (float[])OrtRunner.Run(CctNetworkSnapshot.ExportOnnx(network, settings), "Features", input.data<float>().ToArray(), 1024)["Logits"];
        network.Mixing.Alpha = 0.8;
        network.Mixing.Beta = 0.2;
        var remixed = (float[])OrtRunner.Run(CctNetworkSnapshot.ExportOnnx(network, settings), "Features", input.data<float>().ToArray(), 1024)["Logits"];
        using var _ = no_grad();
        using var logits = network.call(input);
        var expected = logits.data<float>().ToArray();
        Assert.True(standard.Zip(remixed).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - remixed[i]) <= 1e-5);
    }
}
