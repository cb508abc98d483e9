using Microsoft.ML.CompactTransformer.Tests.Support;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>Forward pass against every fixture of the original implementation, intermediate by intermediate.</summary>
public class ForwardParityTests
{
    public static TheoryData<string> Fixtures => new(ReferenceFixture.All);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void IntermediatesMatchTheOriginalWithin1e5(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var network = fixture.BuildNetwork();
        using var input = fixture.Array("input");
        using var _ = no_grad();
        using var outputs = network.ForwardWithIntermediates(input);

        foreach (var (key, actual) in new[] { ("tokens", outputs.Tokens), ("encoded", outputs.Encoded), ("pooled", outputs.Pooled), ("logits", outputs.Logits) })
        {
            using var expected = fixture.Array(key);
            TensorAssert.Close(expected, actual, absolute: 1e-5, what: $"{name} {key}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ForwardEqualsTheLogitsOfForwardWithIntermediates(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var network = fixture.BuildNetwork();
        using var input = fixture.Array("input");
        using var _ = no_grad();
        using var logits = network.call(input);
        using var expected = fixture.Array("logits");
        // Relative bound too: the softmaxT_seqpool logits are ~5e-3, so 1e-5 absolute alone is loose there.
        TensorAssert.Close(expected, logits, absolute: 1e-6, relative: 1e-4, what: $"{name} logits");
    }
}
