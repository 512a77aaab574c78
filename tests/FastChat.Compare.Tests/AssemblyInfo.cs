// The adapter tests measure small runs against real servers on a 2-core machine: one at a time, so a FastChat
// sign-up's key derivation in one test cannot starve another test's measured window.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
