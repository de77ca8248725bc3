using System.Text.Json;

namespace CausalEval.Core.Json;

/// <summary>
/// Reads fields from a <see cref="JsonElement"/> and turns every shape problem into an
/// <see cref="InputException"/> naming the source and the JSON path.
/// </summary>
internal readonly struct JsonRead(string source, string path, JsonElement element)
{
    public string Source { get; } = source;
    public string Path { get; } = path;
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

    public InputException Error(string problem) => new(Source, Path, problem);

    public JsonRead Object()
        => Element.ValueKind == JsonValueKind.Object ? this : throw Error($"expected an object, found {Describe(Element)}");

    public bool Has(string name) => Element.ValueKind == JsonValueKind.Object
        && Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public JsonRead Required(string name)
    {
        Object();
        if (!Element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new InputException(Source, Child(name), "required field is missing");
        }
        return new JsonRead(Source, Child(name), value);
    }

    public JsonRead? Optional(string name)
    {
        Object();
        return Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? new JsonRead(Source, Child(name), value)
            : null;
    }

    public string String()
        => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Error($"expected a string, found {Describe(Element)}");

    public double Number()
    {
        if (Element.ValueKind != JsonValueKind.Number)
        {
            throw Error($"expected a number, found {Describe(Element)}");
        }
        var value = Element.GetDouble();
        return double.IsFinite(value) ? value : throw Error($"number {Element.GetRawText()} is not finite");
    }

    public int Int(int min = int.MinValue, int max = int.MaxValue)
    {
        if (Element.ValueKind != JsonValueKind.Number || !Element.TryGetInt32(out var value))
        {
            throw Error($"expected a whole number, found {Describe(Element)}");
        }
        return value >= min && value <= max ? value : throw Error($"{value} is out of range [{min}, {max}]");
    }

    public long Long(long min = long.MinValue)
    {
        if (Element.ValueKind != JsonValueKind.Number || !Element.TryGetInt64(out var value))
        {
            throw Error($"expected a whole number, found {Describe(Element)}");
        }
        return value >= min ? value : throw Error($"{value} is below {min}");
    }

    public ulong UInt64()
        => Element.ValueKind == JsonValueKind.Number && Element.TryGetUInt64(out var value)
            ? value
            : throw Error($"expected a non-negative whole number, found {Describe(Element)}");

    public bool Bool() => Element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error($"expected true or false, found {Describe(Element)}"),
    };

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
