namespace CausalEval.Core.OddOneOut;

/// <summary>
/// The environment's explanations (DESIGN §1.7, the official strings): after a pick, why it was right or wrong in terms
/// of the concept; near an object, what it is. Shown only in passive transcripts (few-shot examples) and used as the
/// baseline's auxiliary targets — never in an agent's own episode, where a pick is only correct or incorrect.
/// </summary>
public static class OddOneOutExplanations
{
    /// <summary>"Correct: the concept is shape and it is uniquely torus" / "Incorrect: the concept is colour and other objects are red".</summary>
    public static string AfterPick(IReadOnlyList<OddObject> objects, int picked, Dimension concept)
    {
        var value = objects[picked].Value(concept);
        return OddObject.IsUnique(objects, picked, concept)
            ? $"Correct: the concept is {concept.Name()} and it is uniquely {value}"
            : $"Incorrect: the concept is {concept.Name()} and other objects are {value}";
    }

    /// <summary>"This is a red solid cube".</summary>
    public static string Describe(OddObject obj) => $"This is a {obj.Colour} {obj.Texture} {obj.Shape}";
}
