using System.Text.Json;

namespace CausalEval.Core.Json;

/// <summary>
/// Reads fields from a <see cref="JsonElement"/> and turns every shape problem into an
/// <see cref="InputException"/> naming the source and the JSON path (bad input, exit 2). Public as the one validating reader
/// of the projects over Core (a model call policy, a price file), so every file's errors read alike.
/// </summary>
/// <param name="source">The file (or option) the JSON came from, named in errors.</param>
/// <param name="path">Where <paramref name="element"/> is in it: <c>$</c>, <c>models.x.input</c>, <c>items[2]</c>.</param>
/// <param name="element">The value read.</param>
public readonly struct JsonRead(string source, string path, JsonElement element)
{
    /// <summary>The file (or option) the JSON came from.</summary>
    public string Source { get; } = source;

    /// <summary>Where the value is: <c>$</c> for the root, else a dotted path.</summary>
    public string Path { get; } = path;
    /// <summary>The value.</summary>
    public JsonElement Element { get; } = element;

    /// <summary>Reads a whole file, reporting an unreadable one as bad input.</summary>
    public static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(path, "$", $"cannot read the file ({ex.Message})");
        }
    }

    /// <summary>Parses <paramref name="json"/> read from <paramref name="source"/>; invalid JSON is bad input naming line and column.</summary>
    public static JsonRead Parse(string source, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            return new JsonRead(source, "$", document.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "$";
            throw new InputException(source, where, $"not valid JSON ({FirstSentence(ex.Message)})");
        }
    }

    /// <summary>Bad input at this value.</summary>
    public InputException Error(string problem) => new(Source, Path, problem);

    /// <summary>This value, which must be an object.</summary>
    public JsonRead Object()
        => Element.ValueKind == JsonValueKind.Object ? this : throw Error($"expected an object, found {Describe(Element)}");

    /// <summary>Whether this object has a non-null field <paramref name="name"/>.</summary>
    public bool Has(string name) => Element.ValueKind == JsonValueKind.Object
        && Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>The field <paramref name="name"/>, which must be present and not null.</summary>
    public JsonRead Required(string name)
    {
        Object();
        if (!Element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new InputException(Source, Child(name), "required field is missing");
        }
        return new JsonRead(Source, Child(name), value);
    }

    /// <summary>The field <paramref name="name"/>, or null when absent or null.</summary>
    public JsonRead? Optional(string name)
    {
        Object();
        return Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? new JsonRead(Source, Child(name), value)
            : null;
    }

    /// <summary>This value as a string.</summary>
    public string String()
        => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Error($"expected a string, found {Describe(Element)}");

    /// <summary>This value as a finite number.</summary>
    public double Number()
    {
        if (Element.ValueKind != JsonValueKind.Number)
        {
            throw Error($"expected a number, found {Describe(Element)}");
        }
        var value = Element.GetDouble();
        return double.IsFinite(value) ? value : throw Error($"number {Element.GetRawText()} is not finite");
    }

    /// <summary>This value as a whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int(int min = int.MinValue, int max = int.MaxValue)
    {
        if (Element.ValueKind != JsonValueKind.Number || !Element.TryGetInt32(out var value))
        {
            throw Error($"expected a whole number, found {Describe(Element)}");
        }
        return value >= min && value <= max ? value : throw Error($"{value} is out of range [{min}, {max}]");
    }

    /// <summary>This value as a whole number of at least <paramref name="min"/>.</summary>
    public long Long(long min = long.MinValue)
    {
        if (Element.ValueKind != JsonValueKind.Number || !Element.TryGetInt64(out var value))
        {
            throw Error($"expected a whole number, found {Describe(Element)}");
        }
        return value >= min ? value : throw Error($"{value} is below {min}");
    }

    /// <summary>This value as a non-negative 64-bit whole number.</summary>
    public ulong UInt64()
        => Element.ValueKind == JsonValueKind.Number && Element.TryGetUInt64(out var value)
            ? value
            : throw Error($"expected a non-negative whole number, found {Describe(Element)}");

    /// <summary>This value as true or false.</summary>
    public bool Bool() => Element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error($"expected true or false, found {Describe(Element)}"),
    };

    /// <summary>This value's items; it must be an array.</summary>
    public IReadOnlyList<JsonRead> Array()
    {
        if (Element.ValueKind != JsonValueKind.Array)
        {
            throw Error($"expected an array, found {Describe(Element)}");
        }
        var items = new List<JsonRead>(Element.GetArrayLength());
        var i = 0;
        foreach (var item in Element.EnumerateArray())
        {
            items.Add(new JsonRead(Source, $"{Path}[{i++}]", item));
        }
        return items;
    }

    /// <summary>Rejects fields this reader does not know, so a typo is not silently ignored.</summary>
    public void OnlyFields(params string[] known)
    {
        Object();
        foreach (var property in Element.EnumerateObject())
        {
            if (System.Array.IndexOf(known, property.Name) < 0)
            {
                throw new InputException(Source, Child(property.Name), $"unknown field (expected one of: {string.Join(", ", known)})");
            }
        }
    }

    private string Child(string name) => Path == "$" ? name : $"{Path}.{name}";

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"string \"{Truncate(element.GetString()!)}\"",
        JsonValueKind.Number => $"number {element.GetRawText()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        _ => "null",
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.TrimEnd('.');
    }
}
