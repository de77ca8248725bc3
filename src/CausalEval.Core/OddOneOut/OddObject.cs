using System.Collections.Immutable;

namespace CausalEval.Core.OddOneOut;

/// <summary>An attribute dimension of the odd-one-out objects (DESIGN §1.7); the hidden concept is one of them.</summary>
public enum Dimension
{
    Colour,
    Texture,
    Shape,
}

/// <summary>The dimensions, their names and the values each can take.</summary>
public static class Dimensions
{
    public static readonly ImmutableArray<Dimension> All = [Dimension.Colour, Dimension.Texture, Dimension.Shape];

    /// <summary>19 colours.</summary>
    public static readonly ImmutableArray<string> Colours =
    [
        "red", "orange", "yellow", "lime", "green", "teal", "cyan", "azure", "blue", "navy",
        "purple", "violet", "magenta", "pink", "brown", "olive", "grey", "black", "white",
    ];

    /// <summary>The 6 textures of the official environment.</summary>
    public static readonly ImmutableArray<string> Textures = ["solid", "horizontal stripes", "vertical stripes", "checker", "grid", "noise"];

    /// <summary>11 shapes.</summary>
    public static readonly ImmutableArray<string> Shapes =
        ["cube", "sphere", "cylinder", "cone", "pyramid", "torus", "star", "cross", "heart", "prism", "capsule"];

    /// <summary>The lower-case name used in files, prompts and answers: colour, texture, shape.</summary>
    public static string Name(this Dimension dimension) => dimension switch
    {
        Dimension.Colour => "colour",
        Dimension.Texture => "texture",
        Dimension.Shape => "shape",
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    public static ImmutableArray<string> Values(this Dimension dimension) => dimension switch
    {
        Dimension.Colour => Colours,
        Dimension.Texture => Textures,
        Dimension.Shape => Shapes,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    /// <summary>Reads a dimension's name (exact, lower case); false for anything else.</summary>
    public static bool TryParse(string text, out Dimension dimension)
    {
        foreach (var d in All)
        {
            if (string.Equals(d.Name(), text, StringComparison.Ordinal))
            {
                dimension = d;
                return true;
            }
        }
        dimension = default;
        return false;
    }
}

/// <summary>One object: a name and one value per dimension.</summary>
public sealed record OddObject(string Name, string Colour, string Texture, string Shape)
{
    public string Value(Dimension dimension) => dimension switch
    {
        Dimension.Colour => Colour,
        Dimension.Texture => Texture,
        Dimension.Shape => Shape,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    public OddObject With(Dimension dimension, string value) => dimension switch
    {
        Dimension.Colour => this with { Colour = value },
        Dimension.Texture => this with { Texture = value },
        Dimension.Shape => this with { Shape = value },
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    /// <summary>The environment's description near an object: "a red solid cube".</summary>
    public string Describe() => $"{Colour} {Texture} {Shape}";

    /// <summary>True when no other object of <paramref name="objects"/> shares this one's value of <paramref name="dimension"/>.</summary>
    public static bool IsUnique(IReadOnlyList<OddObject> objects, int index, Dimension dimension)
    {
        var value = objects[index].Value(dimension);
        for (var i = 0; i < objects.Count; i++)
        {
            if (i != index && string.Equals(objects[i].Value(dimension), value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>How many dimensions object <paramref name="index"/> is unique along (what the shortcut maximises).</summary>
    public static int UniqueDimensions(IReadOnlyList<OddObject> objects, int index) => Dimensions.All.Count(d => IsUnique(objects, index, d));

    /// <summary>The index of the object called <paramref name="name"/>, or −1.</summary>
    public static int IndexOf(IReadOnlyList<OddObject> objects, string name)
    {
        for (var i = 0; i < objects.Count; i++)
        {
            if (string.Equals(objects[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
