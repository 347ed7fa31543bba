# Tests of movl explain and of --help, registered from tests/CMakeLists.txt.

# movl explain on tiny runs of a random-weight CLIP tower: integrated gradients' completeness, the
# gradient against finite differences, the PNG, bad input, SmoothGrad's determinism (tests/explain_test.sh).
# The methods themselves on closed-form models: tests/test_explain.c (registered with the other test_*.c).
movl_shell_test(explain explain_test.sh unit 600)

# movl COMMAND --help / -h for every command, and usage errors that print the same text.
movl_shell_test(cli_help cli_help_test.sh unit 300)
