// Command compose-check loads Compose files the way Docker Compose v2 does, through its own
// loader (github.com/compose-spec/compose-go/v2): the Compose Specification's schema,
// interpolation, normalization, the binding to Compose's types and the consistency checks
// (every volume, network and depends_on named is defined). No Docker engine is needed.
//
//	compose-check [-json] FILE...
//
// It prints one line naming the services, or with -json the loaded project (the model
// `docker compose config --format json` shows). A file that does not load exits 1 with
// compose-go's message; bad usage exits 2.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	asJSON := flag.Bool("json", false, "print the loaded project as JSON")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-json] FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	project, err := load(context.Background(), flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", strings.Join(flag.Args(), ", "), err)
		os.Exit(1)
	}
	if *asJSON {
		out, err := project.MarshalJSON()
		if err != nil {
			fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(string(out))
		return
	}
	fmt.Printf("compose-check: %s: project %s, services %s\n",
		strings.Join(flag.Args(), ", "), project.Name, strings.Join(project.ServiceNames(), ", "))
}

// load reads the files as `docker compose -f FILE...` does: the environment and a .env file
// beside the first file interpolate them, and relative paths resolve against its folder.
func load(ctx context.Context, files []string) (*types.Project, error) {
	options, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithDotEnv, cli.WithConsistency(true))
	if err != nil {
		return nil, err
	}
	return options.LoadProject(ctx)
}
