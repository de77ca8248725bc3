namespace CausalEval.Core.Worlds;

/// <summary>A weighted direct edge of a world.</summary>
public sealed record Edge(string From, string To, double Weight);

/// <summary>An unweighted directed link, written "A->B".</summary>
public readonly record struct DirectedLink(string From, string To)
{
    public override string ToString() => $"{From}->{To}";

    public static bool TryParse(string text, out DirectedLink link)
    {
        link = default;
        var arrow = text.IndexOf("->", StringComparison.Ordinal);
        if (arrow <= 0)
        {
            return false;
        }
        var from = text[..arrow].Trim();
        var to = text[(arrow + 2)..].Trim();
        if (from.Length == 0 || to.Length == 0 || to.Contains("->", StringComparison.Ordinal))
        {
            return false;
        }
        link = new DirectedLink(from, to);
        return true;
    }
}

/// <summary><c>do(Variable = Value)</c>.</summary>
public readonly record struct Intervention(string Variable, double Value)
{
    public override string ToString() => $"do({Variable} = {Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)})";
}
