package workflow

import "errors"

// Load parses and checks a definition, reporting every problem at once:
// those of its shape (unknown or missing fields) together with those the
// checks find in what could be read, in file order.
func Load(file string, src []byte, catalog *Catalog) (*Checked, error) {
	wf, err := Parse(file, src)
	if wf == nil {
		return nil, err
	}
	var diags Diagnostics
	if err != nil && !errors.As(err, &diags) {
		return nil, err
	}
	checked, cerr := Check(wf, catalog)
	if cerr != nil {
		var more Diagnostics
		if !errors.As(cerr, &more) {
			return nil, cerr
		}
		diags = append(diags, more...)
	}
	if len(diags) > 0 {
		diags = dedupe(diags)
		diags.sort()
		return nil, diags
	}
	return checked, nil
}

func dedupe(ds Diagnostics) Diagnostics {
	seen := map[Diagnostic]bool{}
	var out Diagnostics
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
