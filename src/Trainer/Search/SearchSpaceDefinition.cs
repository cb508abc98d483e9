using System.Globalization;
using System.Reflection;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// The dimensions of a search-space class, read by reflection from the same AutoML attributes
/// (<c>[Range]</c>, <c>[Choice]</c>, <c>[BooleanChoice]</c>) that <c>SearchSpace&lt;T&gt;</c> reads, so the space is written once.
/// Public instance properties and fields count, as in AutoML; dimensions are ordered by name, so sampling does not depend
/// on the order reflection happens to list members in.
/// </summary>
public sealed class SearchSpaceDefinition
{
    private readonly Dictionary<string, MemberInfo> members;

    private SearchSpaceDefinition(Type type, IReadOnlyList<SearchDimension> dimensions, Dictionary<string, MemberInfo> members)
    {
        Type = type;
        Dimensions = dimensions;
        this.members = members;
    }

    /// <summary>The search-space class.</summary>
    public Type Type { get; }

    /// <summary>One dimension per attributed member, ordered by name (ordinal).</summary>
    public IReadOnlyList<SearchDimension> Dimensions { get; }

    /// <summary>Reads the dimensions of <typeparamref name="T"/>.</summary>
    public static SearchSpaceDefinition Of<T>() where T : class, new() => Of(typeof(T));

    /// <summary>Reads the dimensions of <paramref name="type"/>, a class with a public parameterless constructor.</summary>
    /// <exception cref="ArgumentException">The type has no attributed member, a member has two attributes, or an attribute does not fit its member.</exception>
    /// <exception cref="NotSupportedException">A member carries <c>[NestOption]</c>.</exception>
    public static SearchSpaceDefinition Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!type.IsClass || type.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"Search space {type.Name} must be a class with a public parameterless constructor.", nameof(type));
        var dimensions = new List<SearchDimension>();
        var members = new Dictionary<string, MemberInfo>(StringComparer.Ordinal);
        var candidates = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Cast<MemberInfo>()
            .Concat(type.GetFields(BindingFlags.Public | BindingFlags.Instance));
        foreach (var member in candidates)
        {
            if (member.GetCustomAttribute<NestOptionAttribute>() is not null)
                throw new NotSupportedException($"{type.Name}.{member.Name} is a [NestOption]; nested search spaces are not supported by the built-in search.");
            var dimension = DimensionOf(member);
            if (dimension is null)
                continue;
            if (member is PropertyInfo { CanWrite: false })
                throw new ArgumentException($"{type.Name}.{member.Name} carries a search attribute but has no setter.", nameof(type));
            dimensions.Add(dimension);
            members.Add(member.Name, member);
        }
        if (dimensions.Count == 0)
            throw new ArgumentException($"{type.Name} has no public property or field with [Range], [Choice] or [BooleanChoice].", nameof(type));
        return new SearchSpaceDefinition(type, dimensions.OrderBy(d => d.Name, StringComparer.Ordinal).ToArray(), members);
    }

    private static SearchDimension? DimensionOf(MemberInfo member)
    {
        var range = member.GetCustomAttribute<RangeAttribute>();
        var choice = member.GetCustomAttribute<ChoiceAttribute>();
        var boolean = member.GetCustomAttribute<BooleanChoiceAttribute>();
        int count = (range is null ? 0 : 1) + (choice is null ? 0 : 1) + (boolean is null ? 0 : 1);
        if (count > 1)
            throw new ArgumentException($"{member.DeclaringType?.Name}.{member.Name} carries more than one of [Range], [Choice], [BooleanChoice].");
        var valueType = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
        if (range is not null)
            return new RangeDimension(member.Name, valueType, Number(range.Min), Number(range.Max),
                range.Init is null ? null : Number(range.Init), range.LogBase);
        if (choice is not null)
            return new ChoiceDimension(member.Name, valueType, choice.Candidates, choice.DefaultValue);
        if (boolean is not null)
        {
            if (valueType != typeof(bool))
                throw new ArgumentException($"[BooleanChoice] on '{member.Name}' needs a bool member; it is {valueType.Name}.");
            return new ChoiceDimension(member.Name, valueType, [false, true], boolean.DefaultValue);
        }
        return null;
    }

    private static double Number(object value) => Convert.ToDouble(value, CultureInfo.InvariantCulture);

    /// <summary>The default point: every dimension at its init or default value.</summary>
    public IReadOnlyDictionary<string, object> Defaults => Point(d => d.Default);

    /// <summary>Draws one point, each dimension independently.</summary>
    public IReadOnlyDictionary<string, object> Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Point(d => d.Sample(random));
    }

    private SortedDictionary<string, object> Point(Func<SearchDimension, object> value)
    {
        var point = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var d in Dimensions)
            point[d.Name] = value(d);
        return point;
    }

    /// <summary>A new instance of <see cref="Type"/> with every dimension's member set from <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentException">A dimension is missing or its value is outside the dimension.</exception>
    public object Create(IReadOnlyDictionary<string, object> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var instance = Activator.CreateInstance(Type)!;
        foreach (var d in Dimensions)
        {
            if (!parameters.TryGetValue(d.Name, out var value))
                throw new ArgumentException($"The parameters have no '{d.Name}'.", nameof(parameters));
            if (!d.Contains(value))
                throw new ArgumentException($"'{d.Name}' = {value} is outside {d}.", nameof(parameters));
            switch (members[d.Name])
            {
                case PropertyInfo property: property.SetValue(instance, value); break;
                case FieldInfo field: field.SetValue(instance, value); break;
            }
        }
        return instance;
    }

    /// <summary>Every parameter as invariant text, keyed by name.</summary>
    public IReadOnlyDictionary<string, string> Format(IReadOnlyDictionary<string, object> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Dimensions.ToDictionary(d => d.Name, d => d.Format(parameters[d.Name]), StringComparer.Ordinal);
    }

    /// <summary>Reads parameters that <see cref="Format"/> wrote.</summary>
    /// <exception cref="FormatException">A dimension is missing or a value does not parse.</exception>
    public IReadOnlyDictionary<string, object> Parse(IReadOnlyDictionary<string, string> text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Point(d =>
        {
            if (!text.TryGetValue(d.Name, out var cell))
                throw new FormatException($"No value for '{d.Name}'.");
            try
            {
                return d.Parse(cell);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                throw new FormatException($"'{cell}' is not a value of '{d.Name}' ({d.ValueType.Name}).", e);
            }
        });
    }

    /// <summary>True when both points hold the same values (compared as stored text, so a CSV round trip compares equal).</summary>
    public bool SamePoint(IReadOnlyDictionary<string, object> a, IReadOnlyDictionary<string, object> b) =>
        Format(a).OrderBy(kv => kv.Key, StringComparer.Ordinal).SequenceEqual(Format(b).OrderBy(kv => kv.Key, StringComparer.Ordinal));
}
