using System.Globalization;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Support;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Interop;

public class PyTorchCheckpointTests
{
    private static string Pt(string name) => ReferenceFixture.PathOf(name + ".pt");

    [Theory]
    [InlineData("cct_2_3x2_32")]
    [InlineData("cct_7_3x1_32")]
    [InlineData("cct_2_3x2_28_c1")]
    public void LoadedCheckpointReproducesTheOriginalsLogitsAndStaysTrainable(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var network = new CctNetwork(fixture.Architecture);
        var report = PyTorchCheckpoint.Load(network, Pt(name));
        Assert.Equal(network.state_dict().Count, report.Loaded.Count);
        Assert.All(network.parameters(), p => Assert.True(p.requires_grad));
        network.eval();
        using var input = fixture.Array("input");
        using var expected = fixture.Array("logits");
        using var _ = no_grad();
        using var logits = network.call(input);
        TensorAssert.Close(expected, logits, absolute: 1e-5, what: name);
    }

    [Fact]
    public void StrictLoadListsMissingUnexpectedAndMisShapedKeys()
    {
        using var network = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        var e = Assert.Throws<CheckpointMismatchException>(() => PyTorchCheckpoint.Load(network, Pt("cct_7_3x1_32")));
        Assert.Contains("tokenizer.conv_layers.1.0.weight", e.Missing);
        Assert.Contains("classifier.blocks.6.linear1.weight", e.Unexpected);
        Assert.Contains(e.MisShaped, m => m.StartsWith("classifier.positional_emb: checkpoint [1, 256, 256] vs network [1, 64, 128]"));
        Assert.Contains("cct_7_3x1_32.pt", e.Message);
        Assert.Contains("classifier.blocks.6.linear1.weight", e.Message);
        Assert.Contains("mis-shaped", e.Message);
    }

    [Fact]
    public void HeadIsReplacedOnlyWhenAskedAndTheBodyIsKept()
    {
        var arch = CctPresets.Get("cct_2_3x2_32") with { NumClasses = 100 };
        using (var strict = new CctNetwork(arch))
        {
            var e = Assert.Throws<CheckpointMismatchException>(() => PyTorchCheckpoint.Load(strict, Pt("cct_2_3x2_32")));
            Assert.Contains(e.MisShaped, m => m.StartsWith("classifier.fc.weight: checkpoint [10, 128] vs network [100, 128]"));
        }
        using var network = new CctNetwork(arch);
        var report = PyTorchCheckpoint.Load(network, Pt("cct_2_3x2_32"), new CheckpointLoadOptions { ReplaceClassifierHead = true });
        Assert.Equal(new[] { "classifier.fc.weight", "classifier.fc.bias" }, report.KeptInitialized);
        var original = ReferenceFixture.Load("cct_2_3x2_32").Weights().ToDictionary(w => w.Name);
        var qkv = original["classifier.blocks.1.self_attn.qkv.weight"];
        Assert.Equal(qkv.Data, network.state_dict()["classifier.blocks.1.self_attn.qkv.weight"].data<float>().ToArray());
        Assert.Equal(new long[] { 100, 128 }, network.state_dict()["classifier.fc.weight"].shape);
    }

    [Fact]
    public void LearnableEmbeddingIsInterpolatedToANewImageSize()
    {
        var arch = CctPresets.Get("cct_2_3x2_32") with { ImageHeight = 40, ImageWidth = 40 };
        Assert.Equal((10, 10), arch.TokenGrid);
        using var network = new CctNetwork(arch);
        Assert.Throws<CheckpointMismatchException>(() => PyTorchCheckpoint.Load(network, Pt("cct_2_3x2_32")));
        var report = PyTorchCheckpoint.Load(network, Pt("cct_2_3x2_32"), new CheckpointLoadOptions { ResizePositionalEmbedding = true });
        Assert.Equal(new[] { "classifier.positional_emb" }, report.Resized);
        var pe = ReferenceFixture.Load("cct_2_3x2_32").Weights().Single(w => w.Name == "classifier.positional_emb");
        using var source = tensor(pe.Data, pe.Shape);
        using var expected = PositionalEmbeddingResizer.Resize(source, (8, 8), (10, 10));
        Assert.True(expected.allclose(network.state_dict()["classifier.positional_emb"], rtol: 0, atol: 0));
        Assert.True(network.named_parameters().Single(p => p.name == "classifier.positional_emb").parameter.requires_grad);
    }

    [Fact]
    public void SineEmbeddingIsRegeneratedForTheNetworksGrid()
    {
        var arch = CctPresets.Get("cct_2_3x2_32_sine") with { ImageHeight = 28, ImageWidth = 28 };
        using var network = new CctNetwork(arch);
        using var table = SinePositionalEmbedding.Create(49, 128);
        var report = PyTorchCheckpoint.Load(network, Pt("cct_2_3x2_32"));
        Assert.Contains("classifier.positional_emb", report.Resized);
        Assert.True(table.allclose(network.state_dict()["classifier.positional_emb"], rtol: 0, atol: 0));
        Assert.False(network.named_parameters().Single(p => p.name == "classifier.positional_emb").parameter.requires_grad);
    }

    [Fact]
    public void NotACheckpointGivesAClearError()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "not a zip");
        try
        {
            using var network = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
            var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(network, path));
            Assert.Contains(path, e.Message);
            Assert.Throws<FileNotFoundException>(() => PyTorchCheckpoint.Load(network, path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SavedCheckpointLoadsBackAndInPyTorch()
    {
        var fixture = ReferenceFixture.Load("cct_2_3x2_32");
        using var network = fixture.BuildNetwork();
        var dir = Directory.CreateTempSubdirectory("cct-save-");
        try
        {
            var path = Path.Combine(dir.FullName, "saved.pt");
            PyTorchCheckpoint.Save(network, path);
            Assert.Single(Directory.GetFiles(dir.FullName)); // no temp file left behind

            using var again = new CctNetwork(fixture.Architecture);
            PyTorchCheckpoint.Load(again, path);
            foreach (var (key, t) in network.state_dict())
                Assert.True(t.allclose(again.state_dict()[key], rtol: 0, atol: 0), key);

            var sums = PythonTorch.Run($"import torch\nsd = torch.load(r'{path}')\nfor k, v in sd.items(): print(k, tuple(v.shape), repr(float(v.double().sum())))");
            if (sums is null)
                return; // PythonTorch.Run has already asserted that this run may go without PyTorch
            var lines = sums.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(network.state_dict().Keys, lines.Select(l => l.Split(' ')[0]));
            foreach (var line in lines)
            {
                var key = line.Split(' ')[0];
                double pythonSum = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                double ours = network.state_dict()[key].to_type(ScalarType.Float64).sum().item<double>();
                Assert.True(Math.Abs(pythonSum - ours) <= 1e-9 * Math.Max(1, Math.Abs(ours)), $"{key}: PyTorch sum {pythonSum} vs {ours}");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
