using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

public class VariantSpecTests
{
    [Theory]
    [InlineData("standard", 0.0, 1.0, AttentionScope.Pooling)]
    [InlineData("softmax-values", 1.0, 0.0, AttentionScope.Pooling)]
    [InlineData("softmax-values:pooling", 1.0, 0.0, AttentionScope.Pooling)]
    [InlineData("remix:both@0.25", 0.25, 0.75, AttentionScope.Both)]
    [InlineData("remix", 0.5, 0.5, AttentionScope.Pooling)]
    [InlineData("additive@0.5", 0.5, 1.0, AttentionScope.Pooling)]
    [InlineData("additive:self-attention", 1.0, 1.0, AttentionScope.SelfAttention)]
    [InlineData("subtractive", -1.0, 1.0, AttentionScope.Pooling)]
    [InlineData("subtractive@0.3", -0.3, 1.0, AttentionScope.Pooling)]
    [InlineData("subtractive@-0.3", -0.3, 1.0, AttentionScope.Pooling)]
    [InlineData(" Remix:BOTH@1e-1 ", 0.1, 0.9, AttentionScope.Both)]
    public void EachNamedVariantGivesTheWeightsItNames(string text, double alpha, double beta, AttentionScope scope)
    {
        var spec = VariantSpec.Parse(text);
        Assert.Equal(alpha, spec.Weights.Alpha, 12);
        Assert.Equal(beta, spec.Weights.Beta, 12);
        Assert.Equal(scope, spec.Scope);
        var (a, b) = spec.ToSchedule().At(3, 100);
        Assert.Equal((spec.Weights.Alpha, spec.Weights.Beta), (a, b));
        Assert.Equal(spec, VariantSpec.Parse(spec.ToString()));
    }

    [Fact]
    public void ToStringIsCanonical()
    {
        Assert.Equal("standard", VariantSpec.Parse("standard:pooling").ToString());
        Assert.Equal("remix:both@0.5", VariantSpec.Parse("REMIX:both@.5").ToString());
        Assert.Equal("subtractive:self-attention@2", new VariantSpec(AttentionVariant.Subtractive, AttentionScope.SelfAttention, 2).ToString());
        var list = VariantSpec.ParseList("standard, softmax-values:pooling,remix:both@0.5,additive@0.5,subtractive");
        Assert.Equal("standard,softmax-values,remix:both@0.5,additive@0.5,subtractive", string.Join(',', list));
    }

    [Theory]
    [InlineData("softmax", "'softmax'")]
    [InlineData("remix:everywhere@0.5", "'everywhere'")]
    [InlineData("remix@half", "'half'")]
    [InlineData("remix@NaN", "'NaN'")]
    [InlineData("standard@0.5", "'standard'")]
    [InlineData("", "''")]
    public void ErrorsNameTheBadToken(string text, string named)
    {
        var e = Assert.Throws<FormatException>(() => VariantSpec.Parse(text));
        Assert.Contains(named, e.Message);
        Assert.False(VariantSpec.TryParse(text, out _));
    }

    [Fact]
    public void ApplyToSetsTheTrainerOptions()
    {
        var options = new CompactTransformerOptions { MixingSchedule = CompactTransformer.Training.MixingSchedule.Constant(9, 9), Beta = 3 };
        VariantSpec.Parse("additive:both@0.25").ApplyTo(options);
        Assert.Equal((AttentionVariant.Additive, 0.25, (double?)null, AttentionScope.Both), (options.Attention, options.Alpha, options.Beta, options.AttentionScope));
        Assert.Null(options.MixingSchedule);
        Assert.Equal((0.25, 1.0), AttentionVariantWeights.Resolve(options.Attention, options.Alpha, options.Beta));
    }
}
