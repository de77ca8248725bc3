using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CausalEval.Core.Json;

/// <summary>
/// Reads and writes a file format's DTOs through System.Text.Json source-generated metadata, with the messages of
/// <see cref="JsonRead"/>: a shape problem (unknown, missing or null field, wrong type, a number that does not fit) is
/// an <see cref="InputException"/> naming the source and the JSON path, invalid JSON names line and column. The
/// serializer's own exception says little (a .NET type name); on failure the document is walked once against the
/// same metadata to find the first problem and say it in the file's terms. Public as the one way the projects over
/// Core read their JSON files.
/// </summary>
public static class JsonInput
{
    /// <summary>Deserializes <paramref name="json"/> read from <paramref name="source"/> (a file, <c>file:line</c>, an option).</summary>
    public static T Deserialize<T>(string source, string json, JsonTypeInfo<T> info)
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(json, info);
        }
        catch (JsonException ex)
        {
            throw Explain(source, json, info, ex);
        }
        return value ?? throw new InputException(source, "$", "expected an object, found null");
    }

    /// <summary>Reads the file at <paramref name="path"/> (unreadable: bad input) and deserializes it.</summary>
    public static T Load<T>(string path, JsonTypeInfo<T> info) => Deserialize(path, JsonRead.ReadFile(path), info);

    /// <summary>Bad input at <paramref name="path"/> (<c>$</c> for the root).</summary>
    public static InputException Error(string source, string path, string problem) => new(source, path, problem);

    /// <summary><paramref name="value"/> when in [<paramref name="min"/>, <paramref name="max"/>]; else bad input at <paramref name="path"/>.</summary>
    public static int InRange(int value, int min, int max, string source, string path)
        => value >= min && value <= max ? value : throw new InputException(source, path, $"{value} is out of range [{min}, {max}]");

    /// <summary><paramref name="value"/> when at least <paramref name="min"/>; else bad input at <paramref name="path"/>.</summary>
    public static long AtLeast(long value, long min, string source, string path)
        => value >= min ? value : throw new InputException(source, path, $"{value} is below {min}");

    /// <summary>
    /// Items of a list read from a file, which may not be null (the serializer lets a null item through a list of
    /// strings or objects; the formats never allow one).
    /// </summary>
    public static IReadOnlyList<TItem> NoNullItems<TItem>(IReadOnlyList<TItem?> items, string source, string path)
        where TItem : class
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null)
            {
                throw new InputException(source, $"{path}[{i}]", typeof(TItem) == typeof(string) ? "expected a string, found null" : "expected an object, found null");
            }
        }
        return items!;
    }

    /// <summary><paramref name="value"/> as one line of compact JSON (JSONL files, the trials' embedded objects' style).</summary>
    public static string ToLine<T>(T value, JsonTypeInfo<T> info) => Write(value, info, indented: false);

    /// <summary><paramref name="value"/> as indented JSON (two spaces, as <see cref="Utf8JsonWriter"/> indents).</summary>
    public static string ToIndented<T>(T value, JsonTypeInfo<T> info) => Write(value, info, indented: true);

    private static string Write<T>(T value, JsonTypeInfo<T> info, bool indented)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = info.Options.Encoder }))
        {
            JsonSerializer.Serialize(writer, value, info);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static InputException Explain(string source, string json, JsonTypeInfo info, JsonException ex)
    {
        var root = JsonRead.Parse(source, json); // invalid JSON: throws the line-and-column message
        try
        {
            Check(root, info);
        }
        catch (InputException found)
        {
            return found;
        }
        // The metadata walk found nothing (a custom converter's complaint): the serializer's path and first sentence.
        var path = ex.Path is null or "$" ? "$" : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? ex.Path[2..] : ex.Path[1..];
        var message = ex.Message;
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return new InputException(source, path, cut > 0 ? message[..cut] : message.TrimEnd('.'));
    }

    /// <summary>Throws the first problem of <paramref name="value"/> against <paramref name="info"/>, in document order.</summary>
    private static void Check(JsonRead value, JsonTypeInfo info)
    {
        var options = info.Options;
        var type = Nullable.GetUnderlyingType(info.Type) is { } underlying ? underlying : info.Type;
        if (value.Element.ValueKind == JsonValueKind.Null)
        {
            if (type == info.Type && type.IsValueType)
            {
                throw value.Error($"expected {Expected(type)}, found null");
            }
            return;
        }
        if (type != info.Type)
        {
            info = options.GetTypeInfo(type);
        }
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when info.PolymorphismOptions is { } polymorphism:
                CheckDerived(value, info, polymorphism);
                break;
            case JsonTypeInfoKind.Object:
                CheckObject(value, info);
                break;
            case JsonTypeInfoKind.Enumerable:
                var element = options.GetTypeInfo(info.ElementType!);
                foreach (var item in value.Array())
                {
                    Check(item, element);
                }
                break;
            case JsonTypeInfoKind.Dictionary:
                var entry = options.GetTypeInfo(info.ElementType!);
                foreach (var property in value.Object().Element.EnumerateObject())
                {
                    Check(new JsonRead(value.Source, Child(value.Path, property.Name), property.Value), entry);
                }
                break;
            default:
                CheckValue(value, type);
                break;
        }
    }

    /// <summary>A line whose type a discriminator field names (<c>{"event": "created", ...}</c>): that type's fields.</summary>
    private static void CheckDerived(JsonRead value, JsonTypeInfo info, JsonPolymorphismOptions polymorphism)
    {
        var name = polymorphism.TypeDiscriminatorPropertyName;
        var kinds = polymorphism.DerivedTypes.Where(d => d.TypeDiscriminator is string).ToList();
        var kind = value.Object().Required(name).String();
        var derived = kinds.FirstOrDefault(d => (string)d.TypeDiscriminator! == kind).DerivedType
            ?? throw value.Required(name).Error($"unknown {name} '{kind}' (expected {string.Join(", ", kinds.Select(d => d.TypeDiscriminator))})");
        CheckObject(value, info.Options.GetTypeInfo(derived), name);
    }

    private static void CheckObject(JsonRead value, JsonTypeInfo info, string? discriminator = null)
    {
        value.Object();
        var properties = info.Properties;
        if ((info.UnmappedMemberHandling ?? info.Options.UnmappedMemberHandling) == JsonUnmappedMemberHandling.Disallow)
        {
            value.OnlyFields([.. discriminator is null ? [] : new[] { discriminator }, .. properties.Select(p => p.Name)]);
        }
        // In the order the document has them, so the first problem reported is the first a reader meets.
        foreach (var field in value.Element.EnumerateObject())
        {
            if (properties.FirstOrDefault(p => p.Name == field.Name) is { } property && field.Value.ValueKind != JsonValueKind.Null)
            {
                Check(new JsonRead(value.Source, Child(value.Path, field.Name), field.Value), info.Options.GetTypeInfo(property.PropertyType));
            }
        }
        foreach (var property in properties)
        {
            var required = property.IsRequired
                || (info.Options.RespectRequiredConstructorParameters && property.AssociatedParameter is { HasDefaultValue: false, IsMemberInitializer: false });
            var present = value.Element.TryGetProperty(property.Name, out var field);
            if ((!present && required) || (present && field.ValueKind == JsonValueKind.Null && (required || !property.IsSetNullable)))
            {
                value.Required(property.Name); // throws "required field is missing"
            }
        }
    }

    private static void CheckValue(JsonRead value, Type type)
    {
        if (type == typeof(string))
        {
            value.String();
        }
        else if (type == typeof(double) || type == typeof(float))
        {
            value.Number();
        }
        else if (type == typeof(int))
        {
            value.Int();
        }
        else if (type == typeof(long))
        {
            value.Long();
        }
        else if (type == typeof(ulong))
        {
            value.UInt64();
        }
        else if (type == typeof(bool))
        {
            value.Bool();
        }
        else if (type == typeof(DateTimeOffset) && !value.Element.TryGetDateTimeOffset(out _))
        {
            throw value.Error(value.Element.ValueKind == JsonValueKind.String
                ? $"expected a date and time (ISO 8601), found \"{value.Element.GetString()}\""
                : $"expected a date and time (ISO 8601), found {value.Element.ValueKind.ToString().ToLowerInvariant()}");
        }
    }

    private static string Expected(Type type) =>
        type == typeof(bool) ? "true or false" : type == typeof(double) || type == typeof(float) ? "a number" : "a whole number";

    /// <summary>
    /// Doubles as the formats allow them: finite only (the serializer reads <c>1e400</c> as infinity). Written exactly as
    /// <see cref="Utf8JsonWriter.WriteNumberValue(double)"/> writes them (shortest round-trip form), so files keep their bytes.
    /// </summary>
    public sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        /// <inheritdoc/>
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) && double.IsFinite(value)
                ? value
                : throw new JsonException("expected a finite number");

        /// <inheritdoc/>
        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private static string Child(string path, string name) => path == "$" ? name : $"{path}.{name}";
}
