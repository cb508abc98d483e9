using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Search;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.CompactTransformer.Tests.Search;

public class SearchSpaceDefinitionTests
{
    private static readonly SearchSpaceDefinition Space = SearchSpaceDefinition.Of<CompactTransformerSearchSpace>();

    [Fact]
    public void ReadsEveryAttributedPropertyOfTheDefaultSpace()
    {
        Assert.Equal(new[] { "Alpha", "Architecture", "Attention", "AttentionScope", "Beta", "LearningRate", "WeightDecay" },
            Space.Dimensions.Select(d => d.Name));
        var lr = Assert.IsType<RangeDimension>(Space.Dimensions.Single(d => d.Name == "LearningRate"));
        Assert.Equal((1e-4, 1e-2, true), (lr.Min, lr.Max, lr.LogBase));
        var attention = Assert.IsType<ChoiceDimension>(Space.Dimensions.Single(d => d.Name == "Attention"));
        Assert.Equal(Enum.GetValues<AttentionVariant>().Cast<object>(), attention.Candidates);
        // Defaults are the attributes' init values, which are also the class's initial values.
        var fresh = new CompactTransformerSearchSpace();
        Assert.Equal((object)fresh.LearningRate, Space.Defaults["LearningRate"]);
        Assert.Equal((object)fresh.Architecture, Space.Defaults["Architecture"]);
        Assert.Equal((object)fresh.AttentionScope, Space.Defaults["AttentionScope"]);
    }

    [Fact]
    public void SamplingCoversEveryChoiceAndStaysInRangeWithLogRangesSpreadOverDecades()
    {
        var random = new Random(7);
        var samples = Enumerable.Range(0, 3000).Select(_ => Space.Sample(random)).ToArray();
        foreach (var dimension in Space.Dimensions)
        {
            var values = samples.Select(s => s[dimension.Name]).ToArray();
            Assert.All(values, v => Assert.True(dimension.Contains(v), $"{dimension.Name} = {v}"));
            Assert.All(values, v => Assert.IsType(dimension.ValueType, v));
            if (dimension is ChoiceDimension choice)
                foreach (var candidate in choice.Candidates)
                    Assert.InRange(values.Count(v => v.Equals(candidate)), 3000 / choice.Candidates.Count / 2, 3000);
        }
        // Log scale: the decades 1e-4..1e-3 and 1e-3..1e-2 each get about half; a linear draw would give the first under 10%.
        var lr = samples.Select(s => (double)s["LearningRate"]).ToArray();
        Assert.InRange(lr.Count(v => v < 1e-3) / 3000.0, 0.4, 0.6);
        Assert.InRange(lr.Count(v => v < 3.16e-4) / 3000.0, 0.15, 0.35);
        var wd = samples.Select(s => (double)s["WeightDecay"]).ToArray();
        Assert.InRange(wd.Count(v => v < 1e-2) / 3000.0, 0.4, 0.6);
        // Linear scale: alpha's mean sits in the middle.
        Assert.InRange(samples.Average(s => (double)s["Alpha"]), 0.47, 0.53);
        Assert.InRange(samples.Min(s => (double)s["Alpha"]), 0, 0.01);
        Assert.InRange(samples.Max(s => (double)s["Alpha"]), 0.99, 1);
    }

    [Fact]
    public void CreateSetsTheMembersAndApplyToSetsTheOptions()
    {
        var point = Space.Sample(new Random(3));
        var space = (CompactTransformerSearchSpace)Space.Create(point);
        Assert.Equal(point["LearningRate"], space.LearningRate);
        Assert.Equal(point["Attention"], space.Attention);
        var options = new CompactTransformerOptions { CustomArchitecture = new CctArchitecture(), Epochs = 7 };
        space.ApplyTo(options);
        Assert.Equal((space.Attention, space.Alpha, space.Beta, space.AttentionScope, space.LearningRate, space.WeightDecay, space.Architecture),
            (options.Attention, options.Alpha!.Value, options.Beta!.Value, options.AttentionScope, options.LearningRate, options.WeightDecay, options.Architecture));
        Assert.Null(options.CustomArchitecture);
        Assert.Equal(7, options.Epochs);
    }

    [Fact]
    public void TextRoundTripGivesTheSamePoint()
    {
        var random = new Random(11);
        for (int i = 0; i < 50; i++)
        {
            var point = Space.Sample(random);
            var back = Space.Parse(Space.Format(point));
            Assert.Equal(point.OrderBy(kv => kv.Key), back.OrderBy(kv => kv.Key));
        }
        Assert.Throws<FormatException>(() => Space.Parse(new Dictionary<string, string> { ["Alpha"] = "0.5" }));
    }

    private sealed class OtherSpace
    {
        [Range(1, 1000, 10, true)]
#pragma warning disable CS0649 // only its attribute is read: the space is defined by reflection
        public int Steps;
#pragma warning restore CS0649

        [BooleanChoice(true)]
        public bool Flip { get; set; }

        [Choice(new object[] { 16, 32, 64 })]
        public int BatchSize { get; set; }

        [Range(0f, 2f)]
        public float Scale { get; set; }

        public int NotSearched { get; set; }
    }

    [Fact]
    public void FieldsIntegersBooleansAndFloatsAreDimensionsToo()
    {
        var space = SearchSpaceDefinition.Of<OtherSpace>();
        Assert.Equal(new[] { "BatchSize", "Flip", "Scale", "Steps" }, space.Dimensions.Select(d => d.Name));
        Assert.Equal((object)10, space.Defaults["Steps"]);
        Assert.Equal((object)true, space.Defaults["Flip"]);
        Assert.Equal((object)16, space.Defaults["BatchSize"]);
        Assert.Equal((object)1f, space.Defaults["Scale"]);
        var random = new Random(5);
        var steps = Enumerable.Range(0, 2000).Select(_ => (int)space.Sample(random)["Steps"]).ToArray();
        Assert.Equal(1, steps.Min());
        Assert.InRange(steps.Max(), 800, 1000); // on a log scale the top few hundred values share a small slice
        Assert.InRange(steps.Count(s => s < 32) / 2000.0, 0.4, 0.6);
        var created = (OtherSpace)space.Create(space.Defaults);
        Assert.Equal((10, true, 16, 1f), (created.Steps, created.Flip, created.BatchSize, created.Scale));
    }

    private sealed class Nested
    {
        [NestOption]
        public OtherSpace Inner { get; set; } = new();
    }

    private sealed class Twice
    {
        [Range(0.0, 1.0)]
        [Choice(new object[] { 0.0, 1.0 })]
        public double Value { get; set; }
    }

    [Fact]
    public void UnsupportedShapesAreRefusedWithTheMemberName()
    {
        Assert.Contains("Inner", Assert.Throws<NotSupportedException>(() => SearchSpaceDefinition.Of<Nested>()).Message);
        Assert.Contains("Value", Assert.Throws<ArgumentException>(() => SearchSpaceDefinition.Of<Twice>()).Message);
        Assert.Throws<ArgumentException>(() => Space.Create(new Dictionary<string, object>(Space.Defaults) { ["Alpha"] = 2.0 }));
    }
}
