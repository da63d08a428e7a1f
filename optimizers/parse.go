package optimizers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// topLevelFields lists the keys of the optimizer block allowed for each name.
var topLevelFields = map[string][]string{
	NameSGD:          {"name", "lr", "weight_decay", "momentum", "nesterov"},
	NameAdam:         {"name", "lr", "weight_decay", "betas", "eps"},
	NameAdamW:        {"name", "lr", "weight_decay", "betas", "eps"},
	NameNeuroPlastic: {"name", "lr", "weight_decay", "decoupled_weight_decay", "plasticity", "homeostatic", "memory", "activity_trace"},
}

// ParseConfig reads an optimizer configuration in YAML or JSON (the
// "optimizer" block of a trace file, or a user's config file). Missing
// fields take the reference defaults for the named optimizer (as the
// reference does, a missing plasticity.orthogonal_max_ratio follows a given
// residual_max_ratio), the legacy scope aliases are resolved, and the
// result is validated. Unknown fields are rejected with the closest valid
// name. Errors are *ConfigError values whose Source is source (a file name).
func ParseConfig(data []byte, source string) (Config, error) {
	raw, err := decodeRaw(data)
	if err != nil {
		return Config{}, &ConfigError{Source: source, Msg: err.Error()}
	}
	c, err := configFromRaw(raw)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Source = source
			return Config{}, ce
		}
		return Config{}, &ConfigError{Source: source, Msg: err.Error()}
	}
	return c, nil
}

// UnmarshalJSON parses and validates like ParseConfig, so that a Config
// embedded in a larger JSON document is checked too.
func (c *Config) UnmarshalJSON(data []byte) error {
	raw, err := decodeRaw(data)
	if err != nil {
		return err
	}
	v, err := configFromRaw(raw)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// UnmarshalYAML parses and validates like ParseConfig.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	var raw any
	if err := node.Decode(&raw); err != nil {
		return err
	}
	v, err := configFromRaw(raw)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

func decodeRaw(data []byte) (any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("empty optimizer configuration")
	}
	var raw any
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("malformed JSON: %v", err)
		}
		if dec.More() {
			return nil, errors.New("malformed JSON: trailing data after the object")
		}
		return raw, nil
	}
	if err := yaml.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("malformed YAML: %v", err)
	}
	return raw, nil
}

func configFromRaw(raw any) (Config, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return Config{}, &ConfigError{Msg: fmt.Sprintf("expected a mapping of optimizer fields, got %s", kindOf(raw))}
	}
	nameRaw, ok := m["name"]
	if !ok {
		return Config{}, cfgErr("name", "missing; must be one of: %s", strings.Join(optimizerNames, ", "))
	}
	name, ok := nameRaw.(string)
	if !ok {
		return Config{}, cfgErr("name", "expected a string, got %s", kindOf(nameRaw))
	}
	if err := oneOf("name", name, optimizerNames); err != nil {
		return Config{}, err
	}
	c := DefaultConfig(name)
	allowed := topLevelFields[name]
	for _, k := range sortedKeys(m) {
		if !contains(allowed, k) {
			return Config{}, unknownField("", k, allowed, name)
		}
	}
	if err := decodeInto(reflect.ValueOf(&c).Elem(), m, "", allowed); err != nil {
		return Config{}, err
	}
	if name == NameNeuroPlastic {
		if pm, ok := m["plasticity"].(map[string]any); ok {
			_, hasOrth := pm["orthogonal_max_ratio"]
			_, hasRes := pm["residual_max_ratio"]
			if !hasOrth && hasRes {
				c.Plasticity.OrthogonalMaxRatio = c.Plasticity.ResidualMaxRatio
			}
		}
		c.Plasticity.ResolveAliases()
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func unknownField(prefix, key string, allowed []string, optName string) error {
	path := joinPath(prefix, key)
	where := "the " + optName + " optimizer"
	if prefix != "" {
		where = "'" + prefix + "'"
	}
	msg := fmt.Sprintf("unknown field in %s", where)
	if s := closest(key, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	msg += "; allowed fields: " + strings.Join(allowed, ", ")
	return &ConfigError{Field: path, Msg: msg}
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// decodeInto sets the fields of the struct v named by their json tags from
// m; only keys in allowed (all fields when nil) are accepted.
func decodeInto(v reflect.Value, m map[string]any, prefix string, allowed []string) error {
	t := v.Type()
	byTag := map[string]int{}
	var tags []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		byTag[tag] = i
		if allowed == nil || contains(allowed, tag) {
			tags = append(tags, tag)
		}
	}
	for _, k := range sortedKeys(m) {
		idx, ok := byTag[k]
		if !ok || !contains(tags, k) {
			return unknownField(prefix, k, tags, "")
		}
		if err := setValue(v.Field(idx), m[k], joinPath(prefix, k)); err != nil {
			return err
		}
	}
	return nil
}

func setValue(f reflect.Value, val any, path string) error {
	switch f.Kind() {
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return cfgErr(path, "expected a string, got %s", kindOf(val))
		}
		f.SetString(s)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return cfgErr(path, "expected true or false, got %s", kindOf(val))
		}
		f.SetBool(b)
	case reflect.Float64:
		x, err := toFloat(val, path)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Int:
		x, err := toFloat(val, path)
		if err != nil {
			return err
		}
		if x != math.Trunc(x) || math.Abs(x) > 1<<31 {
			return cfgErr(path, "expected an integer, got %v", x)
		}
		f.SetInt(int64(x))
	case reflect.Array:
		list, ok := val.([]any)
		if !ok || len(list) != f.Len() {
			return cfgErr(path, "expected a list of %d numbers, got %s", f.Len(), kindOf(val))
		}
		for i, item := range list {
			if err := setValue(f.Index(i), item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		sub, ok := val.(map[string]any)
		if !ok {
			if val == nil {
				return nil // an empty block keeps the defaults
			}
			return cfgErr(path, "expected a mapping of fields, got %s", kindOf(val))
		}
		return decodeInto(f, sub, path, nil)
	default:
		return cfgErr(path, "unsupported field type %s", f.Kind())
	}
	return nil
}

func toFloat(val any, path string) (float64, error) {
	switch x := val.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, cfgErr(path, "expected a number, got %q", x.String())
		}
		return f, nil
	}
	return 0, cfgErr(path, "expected a number, got %s", kindOf(val))
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case map[string]any:
		return "a mapping"
	case []any:
		return fmt.Sprintf("a list of %d items", len(x))
	case json.Number, float64, int, int64, uint64:
		return fmt.Sprintf("the number %v", x)
	}
	return fmt.Sprintf("%T", v)
}
