package main

import (
	"fmt"
	"io"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("demo: the demo study is not in this build")
}
