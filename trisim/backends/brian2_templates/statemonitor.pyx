{# USES_VARIABLES { t, _clock_t, _indices, N } #}
{# A state monitor's step as Brian2's Cython template has it, the recorded values written
   through a pointer to the monitor's array, not through a typed numpy buffer only to take
   that pointer (Cython writes the buffer's acquisition and format checks: gcc 0.1-0.3 s CPU
   more per monitor on a first start). #}
{% extends 'common_group.pyx' %}

{% block maincode %}
    cdef size_t _new_len = {{N}} + 1
    cdef size_t _i
    _var_t.resize(_new_len)
    {{_dynamic_t}}[_new_len-1] = {{_clock_t}}
    _vectorisation_idx = 1
    {{ scalar_code|autoindent }}
    {% for varname, var in _recorded_variables | dictsort %}
    {% set c_type = cpp_dtype(variables[varname].dtype) %}
    # resized first: the array (and so its data) may move
    _var_{{varname}}.resize((_new_len, _num{{_indices}}))
    cdef {{c_type}} * _record_data_{{varname}} = <{{c_type}} *> _numpy.PyArray_DATA(<_numpy.ndarray> {{get_array_name(var, access_data=False)}}.data)
    for _i in range(_num{{_indices}}):
        _idx = {{_indices}}[_i]
        _vectorisation_idx = _idx
        {{ vector_code | autoindent }}
        _record_data_{{varname}}[(_new_len-1)*_num{{_indices}} + _i] = _to_record_{{varname}}
    {% endfor %}
    {{N}} = _new_len  # set here: the monitor's resize is not called
{% endblock %}
